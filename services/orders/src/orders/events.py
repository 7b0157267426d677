"""What orders publishes on ``orders.events.v1``, and the relay that publishes it.

Events are written into the order document's ``outbox`` by the same atomic write as the change
they describe, so there is never an event without its change nor a change without its event.
The relay then publishes each order's entries in order, keyed by the order id (one partition per
order, so order is kept downstream), and removes each entry only after Kafka acknowledged it. A
crash between the acknowledgement and the removal publishes that entry again with the same
``eventId``: delivery is at least once, and consumers deduplicate by ``eventId``.

With several replicas, one relay works at a time: the holder of the relay lease, renewed every
round. A lease left by a crashed replica expires after ``lease_s``; the next relay publishes
what the crashed one had not removed yet, with the same ``eventId``s.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta

from faststream.kafka import KafkaBroker
from loguru import logger
from prometheus_client import Counter, Gauge

from orderhub_common.events import (
    Order,
    OrderCreated,
    OrderStatus,
    OrderStatusChanged,
    StatusHistoryEntry,
)
from orderhub_common.logging import utc_now
from orders.documents import OutboxEntry
from orders.repository import OrderRepository, PendingOutbox, RelayedOutbox

PublishOrderEvent = Callable[[str, OutboxEntry], Awaitable[None]]

OUTBOX_PUBLISHED = Counter(
    "orders_outbox_published_total",
    "Order events published from the outbox to orders.events.v1, by event type",
    ["event_type"],
)
OUTBOX_PENDING = Gauge(
    "orders_outbox_pending_orders",
    "Orders with order events written but not yet published",
)

# Counting pending outboxes scans the store on FerretDB; once every few seconds is plenty.
_PENDING_GAUGE_INTERVAL_S = 5.0


def created_event(order: Order) -> OrderCreated:
    return OrderCreated(order=order)


def status_changed_event(
    order: Order, previous: OrderStatus, entry: StatusHistoryEntry
) -> OrderStatusChanged:
    return OrderStatusChanged(
        order_id=order.id,
        channel=order.channel,
        external_id=order.external_id,
        previous_status=previous,
        status=entry.status,
        changed_by=entry.changed_by,
        source=entry.source,
        changed_at=entry.changed_at,
    )


def kafka_order_event_publisher(broker: KafkaBroker, topic: str) -> PublishOrderEvent:
    async def publish(order_id: str, entry: OutboxEntry) -> None:
        # Returns once the broker acknowledged the write (acks=all, idempotent producer).
        await broker.publish(
            entry.event,
            topic=topic,
            key=order_id.encode(),
            headers={"eventType": entry.event_type, "eventId": entry.event_id},
            correlation_id=str(entry.event.get("correlationId") or entry.event_id),
        )

    return publish


class OutboxRelay:
    def __init__(
        self,
        repository: OrderRepository,
        publish: PublishOrderEvent,
        *,
        sweep_interval_s: float = 1.0,
        batch_size: int = 100,
        lease_s: float = 10.0,
    ) -> None:
        self._repository = repository
        self._publish = publish
        self._sweep_interval_s = sweep_interval_s
        self._batch_size = batch_size
        self._lease = timedelta(seconds=lease_s)
        self._owner = f"relay-{uuid.uuid4().hex[:12]}"
        self._wake = asyncio.Event()
        self._pending_counted_at = -_PENDING_GAUGE_INTERVAL_S

    def notify(self) -> None:
        """Called after a write that added events: publish now rather than at the next sweep."""
        self._wake.set()

    async def run(self) -> None:
        while True:
            self._wake.clear()
            try:
                published = await self.relay_once()
                await self._refresh_pending_gauge()
            except Exception as exc:  # the store or Kafka is away: the next sweep retries
                logger.warning(f"outbox relay sweep failed: {exc!r}")
                published = 0
            if published:
                continue  # there may be more waiting

            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._sweep_interval_s)

    async def relay_once(self) -> int:
        """Publishes what is pending in up to ``batch_size`` orders; returns how many events."""
        now = utc_now()
        if not await self._repository.take_relay_lease(self._owner, now, now + self._lease):
            return 0
        pending = await self._repository.pending_outboxes(self._batch_size)
        results = await asyncio.gather(*(self._publish_outbox(p) for p in pending))
        for result in results:
            if result.published_event_ids:
                await self._repository.remove_published(result)
        return sum(len(result.published_event_ids) for result in results)

    async def _publish_outbox(self, pending: PendingOutbox) -> RelayedOutbox:
        """Publishes one order's entries in order, stopping at the first failure so the rest
        keep their order for the next sweep."""
        published: list[str] = []
        try:
            for entry in pending.entries:
                await self._publish(pending.order_id, entry)
                OUTBOX_PUBLISHED.labels(entry.event_type).inc()
                published.append(entry.event_id)
        except Exception as exc:
            logger.warning(
                f"outbox relay: {pending.order_id} stopped after {len(published)} events: {exc!r}"
            )
        return RelayedOutbox(pending=pending, published_event_ids=published)

    async def _refresh_pending_gauge(self) -> None:
        if time.monotonic() - self._pending_counted_at < _PENDING_GAUGE_INTERVAL_S:
            return
        self._pending_counted_at = time.monotonic()
        OUTBOX_PENDING.set(await self._repository.count_pending_outboxes())
