"""``GET /api/events`` over a real gateway and Kafka: coalesced messages, resume, reset."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from orderhub_common.events import Channel, OrderStatus, OrderStatusChanged, StatusSource
from orderhub_common.kafka import aiokafka_options

from .conftest import RunningGateway

pytestmark = pytest.mark.integration


def _status_change(order_id: str) -> bytes:
    return (
        OrderStatusChanged(
            order_id=order_id,
            channel=Channel.WEBSITE,
            external_id=order_id,
            previous_status=OrderStatus.PLACED,
            status=OrderStatus.CONFIRMED,
            changed_by=None,
            source=StatusSource.CHANNEL,
            changed_at=datetime.now(UTC),
        )
        .model_dump_json()
        .encode()
    )


async def _events(stream: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    """The stream's events (comments skipped), each with its parsed ``data``."""
    event: dict[str, Any] = {}
    async for line in stream.aiter_lines():
        if line == "":
            if "event" in event:
                event["data"] = json.loads(event["data"])
                yield event
            event = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            event[name] = value.strip()


def _changed_ids(event: dict[str, Any]) -> list[str]:
    return [change["orderId"] for change in event["data"]["changes"]]


class _Stream:
    """One open stream: its events as they come, read in the background."""

    def __init__(self, gateway: RunningGateway, last_event_id: str | None = None) -> None:
        self._gateway = gateway
        self._headers = {"Authorization": f"Bearer {gateway.tokens.mint('viewer')}"}
        if last_event_id is not None:
            self._headers["Last-Event-ID"] = last_event_id
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.last_id = ""
        """The id of the last event read with ``next``."""

    async def __aenter__(self) -> _Stream:
        self._client = self._gateway.client(timeout=60)
        self._context = self._client.stream("GET", "/api/events", headers=self._headers)
        stream = await self._context.__aenter__()
        assert stream.status_code == 200

        async def read() -> None:
            async for event in _events(stream):
                event["at"] = time.monotonic()
                await self.events.put(event)

        self._reader = asyncio.create_task(read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._reader.cancel()
        await self._context.__aexit__(None, None, None)
        await self._client.aclose()

    async def next(self, timeout_s: float = 30) -> dict[str, Any]:
        event = await asyncio.wait_for(self.events.get(), timeout_s)
        self.last_id = event["id"]
        return event

    async def changes_until(self, order_ids: set[str], timeout_s: float = 30) -> list[str]:
        """The order ids announced until every one of ``order_ids`` was."""
        seen: list[str] = []
        deadline = time.monotonic() + timeout_s
        while not order_ids <= set(seen):
            event = await self.next(deadline - time.monotonic())
            if event["event"] == "orders.changed":
                seen.extend(_changed_ids(event))
        return seen


@pytest.fixture
async def producer(gateway: RunningGateway) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(**aiokafka_options(gateway.settings))
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()


async def _joined(stream: _Stream, producer: AIOKafkaProducer, topic: str) -> None:
    """Publishes until the gateway's consumer (which starts at the latest offset) hears it."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        probe = f"probe-{uuid.uuid4().hex[:6]}"
        await producer.send_and_wait(topic, _status_change(probe))
        try:
            await stream.changes_until({probe}, timeout_s=2)
            return
        except TimeoutError:
            continue
    raise AssertionError("the gateway's consumer never joined")


async def test_a_burst_of_changes_reaches_a_client_in_a_bounded_number_of_messages(
    gateway: RunningGateway, producer: AIOKafkaProducer
) -> None:
    topic = gateway.topics.order_events
    async with _Stream(gateway) as stream:
        connected = await stream.next()
        await _joined(stream, producer, topic)
        burst = [f"burst-{n}-{uuid.uuid4().hex[:4]}" for n in range(300)]
        for order_id in burst:
            await producer.send(topic, _status_change(order_id))
        await producer.flush()
        messages: list[dict[str, Any]] = []
        while not set(burst) <= {i for m in messages for i in _changed_ids(m)}:
            messages.append(await stream.next())

    assert connected["event"] == "connected"
    assert connected["data"] == {"resumed": False}
    announced = [i for m in messages for i in _changed_ids(m)]
    assert [i for i in announced if i in set(burst)] == burst  # each once, in order
    # 300 changes within about a second: a handful of messages, at least ~1 s apart.
    assert len(messages) <= 4
    gaps = [later["at"] - earlier["at"] for earlier, later in itertools.pairwise(messages)]
    assert all(gap >= gateway.settings.sse_coalesce_s * 0.9 for gap in gaps), gaps


async def test_a_reconnect_with_last_event_id_gets_what_it_missed_and_no_more(
    gateway: RunningGateway, producer: AIOKafkaProducer
) -> None:
    topic = gateway.topics.order_events
    async with _Stream(gateway) as watcher:
        await watcher.next()
        await _joined(watcher, producer, topic)
        async with _Stream(gateway) as first:
            await first.next()
            seen_first = f"seen-{uuid.uuid4().hex[:6]}"
            await producer.send_and_wait(topic, _status_change(seen_first))
            await first.changes_until({seen_first})
            last_event_id = first.last_id
        missed = [f"missed-{n}-{uuid.uuid4().hex[:4]}" for n in range(3)]
        for order_id in missed:
            await producer.send_and_wait(topic, _status_change(order_id))
        await watcher.changes_until(set(missed))  # the gateway has them

        async with _Stream(gateway, last_event_id) as resumed:
            connected = await resumed.next()
            replayed = await resumed.changes_until(set(missed))

    assert connected["event"] == "connected"
    assert connected["data"] == {"resumed": True}
    assert replayed == missed


async def test_a_last_event_id_the_gateway_cannot_resume_gets_one_reset_then_changes(
    gateway: RunningGateway, producer: AIOKafkaProducer
) -> None:
    topic = gateway.topics.order_events
    async with _Stream(gateway, last_event_id="another-replica-12") as stream:
        reset = await stream.next()
        await _joined(stream, producer, topic)

    assert reset["event"] == "reset"
    assert reset["id"]
    assert "Last-Event-ID" in reset["data"]["reason"]
