"""The gateway's reader of ``orders.events.v1``: cache invalidation and the SSE feed.

Every replica reads the whole topic in a consumer group of its own, from the latest offset, into
its own ring of recent changes (``fanout.py``), which its stream clients are sent from,
coalesced. An event drops its order's cached detail before clients hear of it, so a client that
refetches the order on an event never gets the old answer; cached lists and stats are left to
their short freshness (ingest never stops).
"""

from __future__ import annotations

import socket
from typing import Any

from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from loguru import logger
from pydantic import TypeAdapter, ValidationError

from gateway.cache import ResponseCache
from gateway.fanout import EventHub
from gateway.metrics import ORDER_EVENTS
from gateway.stream_events import OrderChange
from orderhub_common.events import OrderCreated, OrderEvent
from orderhub_common.kafka import Topics, raw_bodies

_order_event = TypeAdapter[Any](OrderEvent)


def sse_group_id(port: int) -> str:
    """One group per replica (host and port), so every replica sees every event."""
    return f"gateway-sse-{socket.gethostname()}-{port}"


def subscribe_order_events(
    broker: KafkaBroker,
    topics: Topics,
    *,
    group_id: str,
    cache: ResponseCache,
    hub: EventHub,
) -> None:
    @broker.subscriber(
        topics.order_events,
        group_id=group_id,
        auto_offset_reset="latest",
        # Live fan-out: a lost event costs one SSE message, and clients refetch on reconnect.
        ack_policy=AckPolicy.ACK_FIRST,
        # In batches: one message at a time, FastStream's per-message machinery and a Redis
        # round trip each took a third of the gateway's CPU while orders flowed in. A batch is
        # handed over as soon as records are there, but after a wait that found none FastStream
        # sleeps the timeout again before it asks: an event arriving then waits that long, so
        # the timeout stays short (``orders.consumers`` likewise).
        batch=True,
        max_records=500,
        batch_timeout_ms=100,
        decoder=raw_bodies,
        title="gateway-order-events",
    )
    async def order_events_seen(bodies: list[bytes]) -> None:
        events: list[OrderEvent] = []
        for body in bodies:
            try:
                events.append(_order_event.validate_json(body))
            except ValidationError as exc:
                logger.warning(f"skipping an order event that does not match its schema: {exc}")
        # Whichever order an undecodable event was about, no cached detail may outlive it.
        await cache.orders_changed(
            {
                event.order.id if isinstance(event, OrderCreated) else event.order_id
                for event in events
            },
            every_detail=len(events) < len(bodies),
        )
        for event in events:
            ORDER_EVENTS.labels(event.event_type).inc()
        hub.publish(OrderChange.of(event) for event in events)
