"""The outbox relay: publishes order events on ``orders.events.v1`` and brings each order it
announces to the query side.

The transactional outbox without transactions (FerretDB has none). A change is written in two
steps, each atomic on its own: first its events go into the ``order_outbox`` collection, tagged
with the revision the change will give the order; then the order document is written, checked
against the revision the change was computed from, with each new history entry carrying its
event's id. The relay publishes an outbox entry only once the order document shows it (the
event id is in the history), so:

- a crash before the order write leaves an entry whose change never happened: once the order
  is at that revision without it (another change won), or after ``abandoned_after_s``, the
  relay drops it unpublished; nothing is announced that did not happen;
- a crash after the order write leaves a confirmed entry: it is published; nothing is lost;
- a crash after publishing but before the entry is removed publishes it again with the same
  ``eventId``: delivery is at least once, consumers deduplicate by ``eventId``.

The outbox also holds projection markers (``repository.PROJECTION_MARKER``), left when a stored
change could not be projected (PostgreSQL away): a change with no event (a channel's new
address) would otherwise never reach the query side. The sweep projects a marker's order like
any other it finds stored, publishes nothing for it, and drops it.

Two ways out, one order:

- the fast way: the service tells the relay the events of each write it just made (``confirm``),
  and the relay publishes them and deletes their entries by id, reading neither the outbox nor
  the order (on FerretDB any other read of a collection decodes all of it);
- the sweep: every ``sweep_interval_s`` it reads the outbox and publishes entries older than
  ``confirm_grace_s`` whose change the order document shows: what a crashed writer or a failed
  publish left behind. After a failed publish the relay sweeps only, oldest first, until the
  outbox has nothing older left, so an order's events never overtake each other.

Each order's entries are published in order (revision, then position), keyed by the order id
(one partition per order), stopping at the first that cannot go yet. With several replicas one
relay works at a time, the holder of the relay lease (``relay_lease``: renewed once a third of
it has passed); a crashed holder's lease expires after ``lease_s``. Keeping pending events out
of the orders collection matters on FerretDB, where every statement on a collection scans it:
the outbox stays small.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from faststream.kafka import KafkaBroker
from loguru import logger

from orderhub_common.events import Event
from orderhub_common.logging import utc_now
from orderhub_common.workers import run_rounds
from orders import metrics
from orders.documents import OutboxEntry
from orders.query_side import ProjectedOrder, ProjectionLag, QuerySide
from orders.relay_lease import RelayLease
from orders.repository import OrderRepository, PendingEvent, StoredOrder, outbox_entry

PublishOrderEvent = Callable[[str, OutboxEntry], Awaitable[None]]

# Counting pending outboxes scans the outbox on FerretDB; now and then is plenty.
_PENDING_GAUGE_INTERVAL_S = 15.0


@dataclass(frozen=True)
class ConfirmedWrite:
    """The events of one write the service has just stored, in publishing order."""

    order_id: str
    entries: Sequence[OutboxEntry]


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
        query_side: QuerySide,
        publish: PublishOrderEvent,
        *,
        sweep_interval_s: float = 5.0,
        batch_size: int = 500,
        lease_s: float = 10.0,
        abandoned_after_s: float = 300.0,
        confirm_grace_s: float = 10.0,
        projection_lag: ProjectionLag | None = None,
    ) -> None:
        self._repository = repository
        self._projection_lag = projection_lag or ProjectionLag(settle_s=0)
        self._query_side = query_side
        self._publish = publish
        self._sweep_interval_s = sweep_interval_s
        self._batch_size = batch_size
        self._lease = RelayLease(repository, "outbox", lease_s=lease_s, owner_prefix="relay")
        self._abandoned_after = timedelta(seconds=abandoned_after_s)
        self._confirm_grace = timedelta(seconds=confirm_grace_s)
        self._wake = asyncio.Event()
        self._pending_counted_at = -_PENDING_GAUGE_INTERVAL_S
        self._confirmed: list[ConfirmedWrite] = []
        self._sweeping_only = False
        self._swept_at = -sweep_interval_s

    def confirm(self, order_id: str, events: Sequence[Event]) -> None:
        """Called right after a write stored these events: they go out now, the fast way."""
        if events and not self._sweeping_only:
            self._confirmed.append(ConfirmedWrite(order_id, [outbox_entry(e) for e in events]))
            self._wake.set()

    async def run(self) -> None:
        try:
            await run_rounds(
                self._round,
                name="outbox relay",
                interval_s=self._sweep_interval_s,
                wake=self._wake,
            )
        finally:
            await self._lease.release()

    async def _round(self) -> bool:
        """One round; whether there may be more waiting. When it fails (the store or Kafka did
        not answer), what it took stays in the outbox and a sweep publishes it after the grace
        period; the fast way goes on (only a failed publish hands everything to the sweep, to
        keep each order's events in order). Were a store timeout to stop the fast way, every
        event after it would pile up in the outbox, and a sweep scans all of it: on FerretDB it
        would never catch up."""
        try:
            published = await self.publish_confirmed()
            if self._sweeping_only or self._sweep_due():
                published += await self.relay_once()
        finally:
            try:
                await self._refresh_pending_gauge()
            except Exception as exc:
                logger.debug(f"outbox pending gauge not refreshed: {exc!r}")
        return bool(published or self._confirmed)

    async def publish_confirmed(self) -> int:
        """Publishes up to ``batch_size`` confirmed events and deletes their entries; returns
        how many. The first failure hands everything not yet published to the sweep."""
        taken, self._confirmed = self._confirmed, []
        if not taken:
            return 0
        if not await self._lease.take_or_renew():
            return 0  # another replica relays; it sweeps these up
        by_order: dict[str, list[OutboxEntry]] = {}
        for write in taken:
            by_order.setdefault(write.order_id, []).extend(write.entries)
        outcomes = await asyncio.gather(
            *(self._publish_in_order(order_id, entries) for order_id, entries in by_order.items())
        )
        published = [event_id for done, _ in outcomes for event_id in done]
        if not all(complete for _, complete in outcomes):
            self._fall_back_to_sweeping()
        await self._repository.remove_from_outbox(published)
        return len(published)

    async def _publish_in_order(
        self, order_id: str, entries: list[OutboxEntry]
    ) -> tuple[list[str], bool]:
        done: list[str] = []
        for entry in entries:
            try:
                await self._publish(order_id, entry)
            except Exception as exc:
                logger.warning(f"outbox relay: {order_id} waits for the sweep: {exc!r}")
                return done, False
            metrics.OUTBOX_PUBLISHED.labels(entry.event_type).inc()
            done.append(entry.event_id)
        return done, True

    def _sweep_due(self) -> bool:
        return time.monotonic() - self._swept_at >= self._sweep_interval_s

    def _fall_back_to_sweeping(self) -> None:
        self._sweeping_only = True
        self._confirmed = []

    async def relay_once(self) -> int:
        """One sweep: publishes what is pending (older than the grace period unless the fast
        way failed) for up to ``batch_size`` entries; returns how many events it published and
        projection markers it carried out."""
        self._swept_at = time.monotonic()
        if not await self._lease.take_or_renew():
            return 0
        now = utc_now()
        older_than = None if self._sweeping_only else now - self._confirm_grace
        pending = await self._repository.pending_events(self._batch_size, older_than=older_than)
        if not pending:
            self._sweeping_only = False  # nothing old is left: the fast way may go on
            return 0
        stored = await self._repository.get_many({p.order_id for p in pending})
        to_announce = {p.order_id for p in pending if _is_stored(p, stored.get(p.order_id))}
        # Changes stored that the fast way did not publish: their projection may still be
        # waiting, as may that of changes too young for this sweep or beyond a full batch. An
        # entry whose change lost its race (a write-back's answer to the channel's own update,
        # say) or is not written yet says nothing about the query side.
        if to_announce or len(pending) >= self._batch_size:
            self._projection_lag.noticed()
        if to_announce:
            # Before announcing a change, make it visible: a downstream system that reacts to
            # an event by asking the API then finds the order as the event describes it.
            await self._query_side.project(
                ProjectedOrder(stored[i].order, stored[i].revision) for i in to_announce
            )
        by_order: dict[str, list[PendingEvent]] = {}
        for event in pending:
            by_order.setdefault(event.order_id, []).append(event)
        outcomes = await asyncio.gather(
            *(
                self._relay_order(events, stored.get(order_id), now)
                for order_id, events in by_order.items()
            )
        )
        await self._repository.remove_from_outbox([i for done, _ in outcomes for i in done])
        return sum(carried_out for _, carried_out in outcomes)

    async def _relay_order(
        self, events: list[PendingEvent], stored: StoredOrder | None, now: datetime
    ) -> tuple[list[str], int]:
        """Walks one order's entries in order; returns the ids done with (carried out or never
        applied) and how many were carried out: events published and projection markers, whose
        order the sweep projected (progress too: after an outage the next sweep follows at
        once). Stops at an entry whose change is not written yet, or whose publish failed, so
        the rest keep their order for the next sweep."""
        done: list[str] = []
        carried_out = 0
        for event in events:
            if _is_stored(event, stored):
                if not event.is_marker:  # a marker announces nothing
                    try:
                        await self._publish(event.order_id, event.entry)
                    except Exception as exc:
                        logger.warning(f"outbox relay: {event.order_id} waits: {exc!r}")
                        break
                    metrics.OUTBOX_PUBLISHED.labels(event.entry.event_type).inc()
                carried_out += 1
            elif not self._never_applied(event, stored, now):
                break
            done.append(event.entry.event_id)
        return done, carried_out

    def _never_applied(
        self, event: PendingEvent, stored: StoredOrder | None, now: datetime
    ) -> bool:
        """The change this event announces lost its race (the order reached that revision
        with another change), or its writer died before writing it."""
        if stored is not None and stored.revision >= event.revision:
            return True
        return now - event.created_at > self._abandoned_after

    async def _refresh_pending_gauge(self) -> None:
        if time.monotonic() - self._pending_counted_at < _PENDING_GAUGE_INTERVAL_S:
            return
        self._pending_counted_at = time.monotonic()
        metrics.OUTBOX_PENDING.set(await self._repository.count_pending_events())


def _is_stored(event: PendingEvent, stored: StoredOrder | None) -> bool:
    """Whether the order as stored shows the change this entry announces: the entry is then
    due to be published (and its order projected first). A projection marker's order is due
    once stored at the marker's revision or later (projected as it is stored then)."""
    if stored is None:
        return False
    if event.is_marker:
        return stored.revision >= event.revision
    return event.entry.event_id in stored.announced
