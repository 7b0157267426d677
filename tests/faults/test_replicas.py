"""Two replicas of ingest and of orders (``ORDERHUB_REPLICAS``): the final store is exactly what
one replica would have stored, one poller per channel holds its lease, and the orders replicas
share the consumer group's partitions while one of them sends each status write-back.

FerretDB 1.24 (the local store where no ``mongod`` is on the PATH) loses concurrent updates of one
document, so the stack refuses a second orders replica there; the orders test then skips, and runs
where the test stack has a real MongoDB.
"""

from __future__ import annotations

import socket
import threading
from collections import Counter
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from redis import Redis

from devstack.pytest_plugin import eventually_sync
from devstack.stack import Stack

pytestmark = pytest.mark.faults

CHANNELS = ("website", "amazon", "blinkit")


def polled(stack: Stack, name: str) -> dict[str, float]:
    """``ingest_orders_polled_total`` by channel, as one ingest replica counts it."""
    response = httpx.get(f"{stack.url(name)}/metrics", timeout=10)
    assert response.status_code == 200, response.text
    counts = dict.fromkeys(CHANNELS, 0.0)
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == "ingest_orders_polled_total":
                counts[sample.labels["channel"]] = sample.value
    return counts


def lease_holders(stack: Stack) -> dict[str, str | None]:
    client = Redis.from_url(stack.redis_url, decode_responses=True)
    try:
        return {c: client.get(f"ingest:lease:{c}") for c in CHANNELS}
    finally:
        client.close()


def owner(stack: Stack, name: str) -> str:
    """Who a replica holds leases as (its default ``INGEST_REPLICA_ID``: host name and port)."""
    return f"{socket.gethostname()}:{stack.port(name)}"


def delta(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    return {c: after[c] - before[c] for c in CHANNELS}


def test_two_ingest_replicas_poll_each_channel_once_and_store_what_one_replica_would(
    pipeline: Any, stack: Stack
) -> None:
    first, second = "ingest", "ingest_2"
    stack.add_replica("ingest")
    try:
        # Both replicas run; the first, which held every lease, keeps them: the second stands by.
        before = {name: polled(stack, name) for name in (first, second)}
        for channel in CHANNELS:
            pipeline.place(channel, 40)
        pipeline.wait_arrived(timeout_s=120)
        holders = lease_holders(stack)
        assert set(holders.values()) <= {owner(stack, first), owner(stack, second)}, holders
        polled_by = {name: delta(polled(stack, name), before[name]) for name in (first, second)}
        for channel in CHANNELS:
            holder = first if holders[channel] == owner(stack, first) else second
            other = second if holder == first else first
            assert polled_by[holder][channel] >= 40, (channel, polled_by)
            assert polled_by[other][channel] == 0, f"{channel} polled by both: {polled_by}"

        # The holder stops (gracefully: it releases its leases): the other takes every channel.
        holder_of_all = {first if h == owner(stack, first) else second for h in holders.values()}
        stopped = first if first in holder_of_all else second
        standby = second if stopped == first else first
        stack.stop(stopped)
        eventually_sync(
            lambda: set(lease_holders(stack).values()) == {owner(stack, standby)},
            timeout_s=30,
            what=f"{standby} to take every channel's lease",
        )
        before_standby = polled(stack, standby)
        for channel in CHANNELS:
            pipeline.place(channel, 30)
        pipeline.wait_arrived(timeout_s=120)
        took_over = delta(polled(stack, standby), before_standby)
        assert all(took_over[c] >= 30 for c in CHANNELS), took_over
        stack.start(stopped)
        pipeline.settled()
    finally:
        stack.start("ingest")
        stack.remove_replica("ingest")
    # Back to one replica: it holds every lease again and ingest goes on.
    eventually_sync(
        lambda: set(lease_holders(stack).values()) == {owner(stack, first)},
        timeout_s=30,
        what="the one replica left to hold every lease",
    )
    for channel in CHANNELS:
        pipeline.place(channel, 10)
    pipeline.settled()


def test_a_second_orders_replica_is_refused_while_the_store_is_ferretdb(stack: Stack) -> None:
    if not stack.store_is_ferretdb:
        pytest.skip("the store is MongoDB here: a second orders replica is allowed (next test)")
    with pytest.raises(SystemExit, match=r"FerretDB 1\.24.*one update is lost"):
        stack.add_replica("orders")
    assert "orders_2" not in stack.supervisor.programs()


def consumed(stack: Stack, name: str) -> float:
    response = httpx.get(f"{stack.url(name)}/metrics", timeout=10)
    return sum(
        sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name == "orders_ingested_consumed_total"
    )


def write_backs_answered(stack: Stack, name: str) -> float:
    """Status moves one orders replica sent and its channel answered (acknowledged or
    rejected): each counts once, on the replica that sent it."""
    response = httpx.get(f"{stack.url(name)}/metrics", timeout=10)
    return sum(
        sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name == "orders_write_backs_total"
        and sample.labels["outcome"] in {"acknowledged", "rejected"}
    )


def test_two_orders_replicas_on_mongodb_share_the_partitions_and_lose_no_concurrent_move(
    pipeline: Any, stack: Stack, admin_headers: dict[str, str]
) -> None:
    if stack.store_is_ferretdb:
        pytest.skip(
            "needs MongoDB: the test stack's store is FerretDB 1.24 here (no mongod on the "
            "PATH), which loses concurrent updates of one document, so the stack refuses a "
            "second orders replica; this runs where mongod is on the PATH"
        )
    replicas = ("orders", "orders_2")
    stack.add_replica("orders")
    try:
        before = {name: consumed(stack, name) for name in replicas}
        for _ in range(3):
            for channel in CHANNELS:
                pipeline.place(channel, 40)
        pipeline.settled()
        # The consumer group shares the partitions: each replica consumed part of the stream.
        shares = {name: consumed(stack, name) - before[name] for name in replicas}
        assert all(share > 0 for share in shares.values()), f"one replica consumed all: {shares}"

        # Two moves of one order at once, one through each replica: every move that answered
        # 200 is in the order's history (none lost), in an order the state machine allows.
        listed = httpx.get(
            f"{stack.url('orders')}/orders",
            params={"status": "PLACED", "limit": 20},
            headers=admin_headers,
            timeout=10,
        )
        assert listed.status_code == 200, listed.text
        order_ids = [o["id"] for o in listed.json()["orders"]]
        answers: dict[str, Counter[int]] = {order_id: Counter() for order_id in order_ids}
        sent_before = sum(write_backs_answered(stack, name) for name in replicas)

        def move(name: str, order_id: str, status: str, go: threading.Barrier) -> None:
            go.wait()
            response = httpx.patch(
                f"{stack.url(name)}/orders/{order_id}/status",
                json={"status": status, **({"note": "cancelled"} if status == "CANCELLED" else {})},
                headers=admin_headers,
                timeout=30,
            )
            answers[order_id][response.status_code] += 1

        for order_id in order_ids:
            go = threading.Barrier(2)
            threads = [
                threading.Thread(target=move, args=("orders", order_id, "CONFIRMED", go)),
                threading.Thread(target=move, args=("orders_2", order_id, "CANCELLED", go)),
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        for order_id in order_ids:
            assert set(answers[order_id]) <= {200, 409}, answers[order_id]
            shown = httpx.get(
                f"{stack.url('orders')}/orders/{order_id}", headers=admin_headers, timeout=10
            ).json()["order"]
            history = [h["status"] for h in shown["statusHistory"]]
            assert len(history) == 1 + answers[order_id][200], (order_id, history, answers)
            assert history in (
                ["PLACED", "CONFIRMED"],
                ["PLACED", "CANCELLED"],
                ["PLACED", "CONFIRMED", "CANCELLED"],
            ), history
            assert shown["status"] == history[-1]

        def moves_announced() -> Counter[str]:
            seen: set[str] = set()
            counts: Counter[str] = Counter()
            for event in pipeline.order_events():
                if event["eventType"] == "order.status_changed" and event["eventId"] not in seen:
                    seen.add(event["eventId"])
                    if event["orderId"] in answers:
                        counts[event["orderId"]] += 1
            return counts

        expected = {order_id: answers[order_id][200] for order_id in order_ids}
        eventually_sync(
            lambda: moves_announced() == expected, timeout_s=60, what="one event per move"
        )
        # Each move goes to its channel once, from the one replica holding the write-back
        # relay's lease, not once per replica.
        moves = sum(expected.values())

        def write_backs_sent() -> float:
            return sum(write_backs_answered(stack, name) for name in replicas) - sent_before

        eventually_sync(
            lambda: write_backs_sent() >= moves, timeout_s=60, what="every move's write-back"
        )
        assert write_backs_sent() == moves
        pipeline.settled()
    finally:
        stack.remove_replica("orders")
