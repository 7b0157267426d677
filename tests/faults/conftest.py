"""The fault suite's stack and the ledger every fault test is judged by.

The stack is the test profile's (own ports, ``ORDERHUB_TEST_PORT_OFFSET`` moves them; own data,
wiped at start), started by the fixtures: never a developer's ``make up`` stack. Every order a
test places at a mock channel goes into one session ``Ledger``; after each fault has healed, the
test calls ``pipeline.settled()``, which holds only when the system agrees with the ledger
exactly:

- the store holds exactly the ledger's ``(channel, externalId)`` pairs, each once;
- the query side (PostgreSQL) holds the same pairs, each once;
- ``orders.events.v1`` carries exactly one ``order.created`` per stored order (counted by
  distinct ``eventId``, as a downstream consumer would: delivery is at least once), for no other
  order;
- the orders consumer groups have no lag on either lane, ``orders.ingested.v1`` (group
  ``orders``) and ``orders.ingested.history.v1`` (group ``orders-history``): no stuck consumer.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from pymongo import MongoClient

from devstack.pytest_plugin import eventually_sync
from devstack.stack import SERVICES, Stack
from orderhub_common.kafka import Topics, aiokafka_options
from orderhub_common.settings import KafkaSettings

CHANNELS = ("website", "amazon", "blinkit")
ORDERS_GROUP = "orders"
HISTORY_GROUP = "orders-history"
# Through the whole stack, after a fault, the pipeline needs seconds to catch up.
SETTLE_S = 180


@pytest.fixture(scope="session")
def stack(test_stack: Stack) -> Stack:
    test_stack.up()
    return test_stack


@pytest.fixture(scope="session")
def urls(stack: Stack) -> dict[str, str]:
    return {name: stack.url(name) for name in SERVICES}


@pytest.fixture(scope="session")
def credentials(stack: Stack) -> dict[str, tuple[str, str]]:
    env = stack.profile.environment
    return {
        "admin": (env["BOOTSTRAP_ADMIN_EMAIL"], env["BOOTSTRAP_ADMIN_PASSWORD"]),
        "viewer": (env["BOOTSTRAP_VIEWER_EMAIL"], env["BOOTSTRAP_VIEWER_PASSWORD"]),
    }


def login(gateway_url: str, email: str, password: str) -> httpx.Response:
    return httpx.post(
        f"{gateway_url}/api/auth/login", json={"email": email, "password": password}, timeout=10
    )


@pytest.fixture
def admin_headers(urls: dict[str, str], credentials: dict[str, tuple[str, str]]) -> dict[str, str]:
    """A fresh sign-in for each test: an access token lives 15 minutes, less than the suite."""
    response = login(urls["gateway"], *credentials["admin"])
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['accessToken']}"}


@dataclass
class Ledger:
    """Every order placed at the mock channels in this session, by channel."""

    placed: dict[str, set[str]] = field(default_factory=lambda: {c: set() for c in CHANNELS})
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, channel: str, external_ids: list[str]) -> None:
        with self.lock:
            self.placed[channel].update(external_ids)

    def pairs(self) -> set[tuple[str, str]]:
        with self.lock:
            return {(c, e) for c, ids in self.placed.items() for e in ids}


class Pipeline:
    """The stack seen from outside: place orders, inject channel faults, judge the outcome."""

    def __init__(self, stack: Stack, urls: dict[str, str], ledger: Ledger) -> None:
        self.stack = stack
        self.urls = urls
        self.ledger = ledger
        self.topics = Topics()
        env = stack.profile.environment
        self._mongo_db = env.get("ORDERS_MONGODB_DATABASE", "orderhub_orders")
        self.control = httpx.Client(base_url=f"{urls['mock_channels']}/_control", timeout=30)

    # Channels ------------------------------------------------------------------------------
    def place(self, channel: str, count: int) -> list[str]:
        response = self.control.post(f"/{channel}/orders", json={"count": count})
        assert response.status_code == 200, response.text
        created: list[str] = response.json()["created"]
        assert len(created) == count
        self.ledger.add(channel, created)
        return created

    def set_faults(
        self, channel: str, *, down: bool = False, error_rate: float = 0, latency_ms: int = 0
    ) -> None:
        response = self.control.put(
            f"/{channel}/faults",
            json={"down": down, "errorRate": error_rate, "latencyMs": latency_ms},
        )
        assert response.status_code == 200, response.text

    def clear_faults(self) -> None:
        for channel in CHANNELS:
            self.set_faults(channel)

    # What the system holds -------------------------------------------------------------------
    def stored_pairs(self) -> Counter[tuple[str, str]]:
        """Every order in the store as (channel, externalId), with how often it is there."""
        client: MongoClient[dict[str, Any]] = MongoClient(
            self.stack.mongodb_url, serverSelectionTimeoutMS=5000
        )
        try:
            found = client[self._mongo_db]["orders"].find({}, {"channel": 1, "externalId": 1})
            return Counter((o["channel"], o["externalId"]) for o in found)
        finally:
            client.close()

    def stored_ids(self) -> set[str]:
        client: MongoClient[dict[str, Any]] = MongoClient(
            self.stack.mongodb_url, serverSelectionTimeoutMS=5000
        )
        try:
            return {o["_id"] for o in client[self._mongo_db]["orders"].find({}, {"_id": 1})}
        finally:
            client.close()

    def projected_pairs(self) -> Counter[tuple[str, str]]:
        async def read() -> Counter[tuple[str, str]]:
            connection = await asyncpg.connect(self.stack.postgres_url, timeout=5)
            try:
                rows = await connection.fetch("SELECT channel, external_id FROM order_rows")
            finally:
                await connection.close()
            return Counter((r["channel"], r["external_id"]) for r in rows)

        return asyncio.run(read())

    def _kafka_options(self) -> dict[str, Any]:
        return aiokafka_options(KafkaSettings(**self.stack.kafka_settings()))

    def order_events(self) -> list[dict[str, Any]]:
        return asyncio.run(_read_topic(self._kafka_options(), self.topics.order_events))

    def dead_letters(self) -> int:
        return len(asyncio.run(_read_topic(self._kafka_options(), self.topics.ingested_dlq)))

    def created_per_order(self) -> Counter[str]:
        """What a downstream consumer counts: distinct ``order.created`` events per order id."""
        seen: set[str] = set()
        counts: Counter[str] = Counter()
        for event in self.order_events():
            if event["eventType"] == "order.created" and event["eventId"] not in seen:
                seen.add(event["eventId"])
                counts[event["order"]["id"]] += 1
        return counts

    def consumer_lag(self) -> int:
        """What the orders consumer has not yet processed, on both lanes."""
        kafka = self._kafka_options()
        return sum(
            asyncio.run(_group_lag(kafka, group, topic))
            for group, topic in (
                (ORDERS_GROUP, self.topics.ingested),
                (HISTORY_GROUP, self.topics.ingested_history),
            )
        )

    # The verdict ---------------------------------------------------------------------------
    def arrived(self) -> bool:
        stored = self.stored_pairs()
        return set(stored) >= self.ledger.pairs()

    def wait_arrived(self, timeout_s: float = SETTLE_S) -> None:
        eventually_sync(self.arrived, timeout_s=timeout_s, what="every placed order in the store")

    def settled(self, timeout_s: float = SETTLE_S) -> None:
        """Waits until the system agrees with the ledger, then asserts it exactly."""
        expected = self.ledger.pairs()

        def agrees() -> bool:
            return (
                set(self.stored_pairs()) == expected
                and set(self.projected_pairs()) == expected
                and set(self.created_per_order()) == self.stored_ids()
                and self.consumer_lag() == 0
            )

        eventually_sync(agrees, timeout_s=timeout_s, what="the system to agree with the ledger")
        time.sleep(3)  # a duplicate on its way would land by now
        stored = self.stored_pairs()
        assert set(stored) == expected, _difference(set(stored), expected)
        assert max(stored.values(), default=1) == 1, "an order is stored twice"
        projected = self.projected_pairs()
        assert set(projected) == expected, _difference(set(projected), expected)
        assert max(projected.values(), default=1) == 1, "an order is projected twice"
        created = self.created_per_order()
        assert set(created) == self.stored_ids(), "order.created missing or for an unknown order"
        doubled = {order_id: n for order_id, n in created.items() if n != 1}
        assert not doubled, f"order.created more than once: {doubled}"
        assert self.consumer_lag() == 0, "the orders consumer is stuck"


def _difference(actual: set[tuple[str, str]], expected: set[tuple[str, str]]) -> str:
    missing = sorted(expected - actual)
    extra = sorted(actual - expected)
    return f"{len(missing)} missing (first {missing[:5]}), {len(extra)} extra ({extra[:5]})"


async def _partitions(admin: AIOKafkaAdminClient, topic: str) -> list[TopicPartition]:
    [described] = await admin.describe_topics([topic])
    return [TopicPartition(topic, p["partition"]) for p in described["partitions"]]


async def _read_topic(kafka: dict[str, Any], topic: str) -> list[dict[str, Any]]:
    admin = AIOKafkaAdminClient(**kafka)
    await admin.start()
    try:
        partitions = await _partitions(admin, topic)
    finally:
        await admin.close()
    consumer = AIOKafkaConsumer(enable_auto_commit=False, auto_offset_reset="earliest", **kafka)
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        events: list[dict[str, Any]] = []
        while any([await consumer.position(tp) < end[tp] for tp in partitions]):
            for records in (await consumer.getmany(timeout_ms=500)).values():
                events += [json.loads(r.value) for r in records if r.value]
        return events
    finally:
        await consumer.stop()


async def _group_lag(kafka: dict[str, Any], group: str, topic: str) -> int:
    admin = AIOKafkaAdminClient(**kafka)
    consumer = AIOKafkaConsumer(enable_auto_commit=False, **kafka)
    await admin.start()
    await consumer.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
        partitions = await _partitions(admin, topic)
        end = await consumer.end_offsets(partitions)
        lag = 0
        for tp in partitions:
            done = committed.get(tp)
            lag += end[tp] - (done.offset if done is not None and done.offset >= 0 else 0)
        return lag
    finally:
        await consumer.stop()
        await admin.close()


@pytest.fixture(scope="session")
def ledger(stack: Stack, urls: dict[str, str]) -> Ledger:
    """Starts from what the store already holds (nothing, on a fresh stack; a reused stack's
    earlier orders otherwise), so the verdict is about this session's faults alone."""
    ledger = Ledger()
    for channel, external_id in Pipeline(stack, urls, ledger).stored_pairs():
        ledger.add(channel, [external_id])
    return ledger


@pytest.fixture
def pipeline(stack: Stack, urls: dict[str, str], ledger: Ledger) -> Iterator[Pipeline]:
    pipe = Pipeline(stack, urls, ledger)
    pipe.clear_faults()
    try:
        yield pipe
    finally:
        pipe.clear_faults()
        pipe.control.close()


@dataclass
class Answers:
    """What a stream of calls got back: status codes and each call's time."""

    codes: Counter[int] = field(default_factory=Counter)
    seconds: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, code: int, elapsed_s: float) -> None:
        with self.lock:
            self.codes[code] += 1
            self.seconds.append(elapsed_s)


class SteadyLoad:
    """A background stream of order reads through the gateway, and orders placed at channels."""

    def __init__(self, pipeline: Pipeline, headers: dict[str, str], *, place_every_s: float):
        self.pipeline = pipeline
        self.headers = headers
        self.place_every_s = place_every_s
        self.reads = Answers()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._read_loop, daemon=True),
            threading.Thread(target=self._place_loop, daemon=True),
        ]

    def __enter__(self) -> SteadyLoad:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _read_loop(self) -> None:
        with httpx.Client(base_url=self.pipeline.urls["gateway"], timeout=10) as client:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    code = client.get(
                        "/api/orders", params={"limit": 5}, headers=self.headers
                    ).status_code
                except httpx.HTTPError:
                    code = 0
                self.reads.add(code, time.monotonic() - started)
                self._stop.wait(0.1)

    def _place_loop(self) -> None:
        index = 0
        while not self._stop.is_set():
            self.pipeline.place(CHANNELS[index % len(CHANNELS)], 5)
            index += 1
            self._stop.wait(self.place_every_s)


@pytest.fixture
def steady_load(pipeline: Pipeline, admin_headers: dict[str, str]) -> Callable[..., SteadyLoad]:
    def start(place_every_s: float = 0.5) -> SteadyLoad:
        return SteadyLoad(pipeline, admin_headers, place_every_s=place_every_s)

    return start
