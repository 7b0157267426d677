"""The order pipeline, black box: orders placed at the mock channels reach the orders store and
``orders.events.v1`` normalized, status moves follow the state machine, and crashes lose or
duplicate nothing (issue 3; the crash tests are in the fault suite, ``tests/faults``)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection

from devstack.pytest_plugin import eventually as _eventually
from devstack.stack import Stack
from orderhub_common.kafka import Topics

pytestmark = pytest.mark.e2e

CHANNELS = ("website", "amazon", "blinkit")
STATUSES = {"PLACED", "CONFIRMED", "SHIPPED", "DELIVERED", "CANCELLED"}


@pytest.fixture
async def orders_collection(
    stack: Stack, mongodb_url: str
) -> AsyncIterator[AsyncCollection[dict[str, Any]]]:
    database = stack.profile.environment.get("ORDERS_MONGODB_DATABASE", "orderhub_orders")
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_url, tz_aware=True)
    try:
        yield client[database]["orders"]
    finally:
        await client.close()


@pytest.fixture
async def control(mock_channels_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"{mock_channels_url}/_control", timeout=30) as client:
        yield client


async def eventually(
    check: Callable[[], Awaitable[bool]], *, timeout_s: float = 60, what: str
) -> None:
    # Through the whole stack, outcomes take seconds: poll gently, wait longer.
    await _eventually(check, timeout_s=timeout_s, what=what, interval_s=0.5)


async def create_orders(control: httpx.AsyncClient, channel: str, count: int) -> list[str]:
    response = await control.post(f"/{channel}/orders", json={"count": count})
    assert response.status_code == 200, response.text
    created: list[str] = response.json()["created"]
    assert len(created) == count
    return created


async def move_at_channel(
    control: httpx.AsyncClient, channel: str, external_id: str, status: str
) -> None:
    response = await control.post(
        f"/{channel}/orders/{external_id}/status", json={"status": status}
    )
    assert response.status_code == 200, response.text


async def stored(
    orders: AsyncCollection[dict[str, Any]], channel: str, external_id: str
) -> dict[str, Any] | None:
    return await orders.find_one({"channel": channel, "externalId": external_id})


async def order_events(kafka_options: dict[str, Any], topics: Topics) -> list[dict[str, Any]]:
    """Every event on ``orders.events.v1`` so far, each with the record key it came with."""
    consumer = AIOKafkaConsumer(
        topics.order_events,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **kafka_options,
    )
    await consumer.start()
    try:
        await eventually(
            lambda: _resolved(bool(consumer.assignment())), timeout_s=15, what="partitions"
        )
        partitions = sorted(consumer.assignment())
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        events: list[dict[str, Any]] = []
        while any([await consumer.position(tp) < end[tp] for tp in partitions]):
            for records in (await consumer.getmany(timeout_ms=500)).values():
                events += [{**json.loads(r.value), "_key": r.key.decode()} for r in records]
        return events
    finally:
        await consumer.stop()


async def _resolved(value: bool) -> bool:
    return value


def events_for(events: list[dict[str, Any]], order_id: str) -> list[dict[str, Any]]:
    return [
        e
        for e in events
        if e["_key"] == order_id
        and (e.get("orderId") == order_id or e.get("order", {}).get("id") == order_id)
    ]


def distinct(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """At least once on the wire: a redelivered event repeats its ``eventId``."""
    seen: set[str] = set()
    unique = []
    for event in events:
        if event["eventId"] not in seen:
            seen.add(event["eventId"])
            unique.append(event)
    return unique


async def stale_skips(orders_url: str) -> float:
    async with httpx.AsyncClient(timeout=10) as client:
        text = (await client.get(f"{orders_url}/metrics")).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith('orders_skipped_stale_total{reason="stale"}')
    )


async def test_orders_from_every_channel_arrive_normalized_in_the_store_and_on_the_topic(
    control: httpx.AsyncClient,
    orders_collection: AsyncCollection[dict[str, Any]],
    kafka_options: dict[str, Any],
    topics: Topics,
) -> None:
    created = {channel: await create_orders(control, channel, 2) for channel in CHANNELS}

    async def all_stored() -> bool:
        for channel, external_ids in created.items():
            for external_id in external_ids:
                if await stored(orders_collection, channel, external_id) is None:
                    return False
        return True

    await eventually(all_stored, what="every new order in the store")
    events = await order_events(kafka_options, topics)
    for channel, external_ids in created.items():
        for external_id in external_ids:
            order = await stored(orders_collection, channel, external_id)
            assert order is not None
            assert order["status"] == "PLACED"
            assert [(h["status"], h["source"]) for h in order["statusHistory"]] == [
                ("PLACED", "channel")
            ]
            assert order["customer"]["name"].strip()
            assert order["items"]
            assert all(i["qty"] >= 1 for i in order["items"])
            assert re.fullmatch(r"[A-Z]{3}", order["currency"])
            assert isinstance(order["placedAt"], datetime)
            created_events = distinct(events_for(events, order["_id"]))
            assert [e["eventType"] for e in created_events] == ["order.created"], channel
            announced = created_events[0]["order"]
            assert (announced["channel"], announced["externalId"]) == (channel, external_id)
            assert announced["total"] == order["total"]
            assert announced["customer"] == order["customer"]


async def test_a_status_move_at_a_channel_arrives_and_a_backwards_one_does_not(
    control: httpx.AsyncClient,
    orders_collection: AsyncCollection[dict[str, Any]],
    kafka_options: dict[str, Any],
    topics: Topics,
    service_urls: dict[str, str],
) -> None:
    [external_id] = await create_orders(control, "amazon", 1)

    async def status_is(expected: str) -> bool:
        order = await stored(orders_collection, "amazon", external_id)
        return order is not None and order["status"] == expected

    await eventually(lambda: status_is("PLACED"), what="the new order")
    await move_at_channel(control, "amazon", external_id, "SHIPPED")
    await eventually(lambda: status_is("SHIPPED"), what="the channel's move to SHIPPED")
    skips_before = await stale_skips(service_urls["orders"])

    await move_at_channel(control, "amazon", external_id, "CONFIRMED")

    async def backwards_seen() -> bool:
        return await stale_skips(service_urls["orders"]) > skips_before

    await eventually(backwards_seen, what="orders to see (and skip) the backwards move")
    order = await stored(orders_collection, "amazon", external_id)
    assert order is not None
    assert order["status"] == "SHIPPED"
    assert [h["status"] for h in order["statusHistory"]] == ["PLACED", "CONFIRMED", "SHIPPED"]
    moves = [
        (e["previousStatus"], e["status"], e["source"])
        for e in distinct(events_for(await order_events(kafka_options, topics), order["_id"]))
        if e["eventType"] == "order.status_changed"
    ]
    assert moves == [("PLACED", "CONFIRMED", "channel"), ("CONFIRMED", "SHIPPED", "channel")]
