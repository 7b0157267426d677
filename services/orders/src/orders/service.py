"""The orders domain: the status state machine, channel upserts and admin status moves.

Kafka consumers and HTTP handlers both call ``OrderService``. Every change is computed from the
stored order at some revision and written only if the order is still at it, so a concurrent
change is never overwritten; the events it produces go through the outbox (see
``outbox_relay.py``), so none is lost and none is announced for a change that did not happen.
Each change is then projected to the query side, which answers lists, search and stats.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from loguru import logger
from pydantic import JsonValue

from orderhub_common.audit import AuditTrail
from orderhub_common.context import correlated
from orderhub_common.errors import is_store_outage
from orderhub_common.events import (
    ChannelOrder,
    Event,
    Order,
    OrderIngested,
    OrderStatus,
    Shipment,
    WriteBackState,
)
from orderhub_common.security import Principal
from orders import metrics
from orders.changes import (
    admin_move,
    channel_change,
    job_event_id,
    moved_by_job,
    new_order,
    note_change,
    order_id_for,
    tags_change,
    write_back_answer,
)
from orders.errors import ConcurrentChangeError, InvalidStatusMoveError, OrderNotFoundError
from orders.query_side import (
    QUERY_SIDE_FAILURES,
    OrderPageRows,
    ProjectedOrder,
    ProjectionLag,
    QuerySide,
    ServedOrder,
)
from orders.query_side.keyset import ListPage
from orders.repository import NewOrder, OrderChange, OrderRepository, StoredOrder
from orders.schemas import OrderFilters, OrderListQuery, OrderMatchQuery, OrderStats
from orders.state_machine import ALLOWED_MOVES, can_move, decide_channel_update

# A write computed from a revision someone else changed meanwhile is recomputed; this many times.
MAX_WRITE_ATTEMPTS = 5

# Orders of one batch written at once: enough to hide round trips, few enough for a small store.
_CONCURRENT_WRITES = 8


@dataclass(frozen=True)
class Actor:
    """Who asks for an admin change, for the audit log."""

    principal: Principal
    client_address: str | None = None


@dataclass(frozen=True)
class MoveOutcome:
    """What became of one order of a bulk move."""

    order_id: str
    moved: bool
    code: str | None = None
    message: str | None = None
    from_status: OrderStatus | None = None

    @classmethod
    def refused(
        cls, order_id: str, code: str, message: str, from_status: OrderStatus | None = None
    ) -> MoveOutcome:
        return cls(order_id, moved=False, code=code, message=message, from_status=from_status)


class ChannelOutcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass
class _BatchOrder:
    """One order's copies within a consumed batch, and what is known of it so far."""

    copies: list[OrderIngested]
    stored: StoredOrder | None = None
    outcomes: list[ChannelOutcome] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)  # of the writes made, in order


class OrderService:
    def __init__(
        self,
        repository: OrderRepository,
        query_side: QuerySide,
        *,
        on_written: Callable[[str, Sequence[Event]], None] = lambda order_id, events: None,
        on_write_back: Callable[[OrderChange], None] = lambda change: None,
        audit: AuditTrail | None = None,
        projection_lag: ProjectionLag | None = None,
    ) -> None:
        self._audit_trail = audit
        self._projection_lag = projection_lag or ProjectionLag(settle_s=0)
        self._repository = repository
        self._query_side = query_side
        # Hands the events of each stored write to the outbox relay, which publishes them at
        # once instead of finding them at its next sweep (``OutboxRelay.confirm``).
        self._on_written = on_written
        # Hands each stored change that asks its channel for a move to the write-back relay,
        # the moment it is stored (``WriteBackRelay.confirm``).
        self._on_write_back = on_write_back
        self._writes = asyncio.Semaphore(_CONCURRENT_WRITES)

    async def record_ingested(self, events: Sequence[OrderIngested]) -> list[ChannelOutcome]:
        """Applies channel copies in arrival order (per order), then projects every order of
        the batch, changed or not, so a batch redelivered after a crash heals the query side.
        Idempotent: the same copies applied again change nothing. Costs at most one point read
        per order (none for a new one), whatever the number of orders stored. Each order event
        carries the correlation id of the ingested event that caused it."""
        batch: dict[str, _BatchOrder] = {}
        for event in events:
            order_id = order_id_for(event.order.channel, event.order.external_id)
            batch.setdefault(order_id, _BatchOrder(copies=[])).copies.append(event)
        # A channel's first copy of an order is PLACED: such copies are taken for new orders and
        # inserted without a read (a wrong guess costs one failed insert); the others are read.
        guessed_new = {
            i for i, e in batch.items() if e.copies[0].order.status == OrderStatus.PLACED
        }
        stored = await self._repository.get_many(batch.keys() - guessed_new)
        fresh: list[NewOrder] = []
        for order_id, entry in batch.items():
            if order_id not in stored:
                with correlated(entry.copies[0].correlation_id):
                    fresh.append(new_order(entry.copies[0].order))
        inserted = await self._repository.insert_many(fresh)
        for new in fresh:
            if new.order.id in inserted:
                entry = batch[new.order.id]
                entry.stored = StoredOrder(new.order, 1, new.channel_updated_at)
                entry.outcomes.append(ChannelOutcome.CREATED)
                entry.events.extend(new.events)
                entry.copies.pop(0)
        metrics.UPSERTED.labels("created").inc(len(inserted))
        for order_id, known in stored.items():
            batch[order_id].stored = known
        await self._write_chains(batch.values())
        # What is left: copies of orders a guess took for new that were stored already, and
        # chains that lost to a concurrent change: one order at a time, read afresh.
        await asyncio.gather(*(self._record_copies(entry) for entry in batch.values()))
        projected = await self._project_stored(
            [ProjectedOrder(e.stored.order, e.stored.revision) for e in batch.values() if e.stored],
            unannounced={i for i, e in batch.items() if e.stored and not e.events},
        )
        # Announced once visible: whoever reacts to an event by asking the API finds the order.
        if projected:
            for order_id, entry in batch.items():
                self._on_written(order_id, entry.events)
        return [outcome for entry in batch.values() for outcome in entry.outcomes]

    async def _write_chains(self, entries: Iterable[_BatchOrder]) -> None:
        """Each order's copies applied in memory to the order as read (or just inserted), one
        after the other, then every order that changed written at once (``apply_chains``): no
        read after the first and no write per copy. A copy that changes nothing (older than
        what is stored, a replay) costs nothing and announces nothing."""
        chains: dict[str, tuple[_BatchOrder, list[OrderChange], list[ChannelOutcome]]] = {}
        for entry in entries:
            if entry.stored is None:
                continue  # a guess took it for new but it was stored: read by _record_copies
            current, changes, outcomes = entry.stored, [], []
            for copy in entry.copies:
                decision = decide_channel_update(
                    current.order.status, current.channel_updated_at, copy.order
                )
                if decision.skipped is not None:
                    metrics.SKIPPED_STALE.labels(decision.skipped.value).inc()
                with correlated(copy.correlation_id):
                    change = channel_change(current, copy.order, decision)
                if change is None:
                    outcomes.append(ChannelOutcome.UNCHANGED)
                    continue
                changes.append(change)
                outcomes.append(ChannelOutcome.UPDATED)
                current = change.applied()
            chains[current.order.id] = (entry, changes, outcomes)
        written = await self._repository.apply_chains([c for _, c, _ in chains.values()])
        for order_id, (entry, changes, outcomes) in chains.items():
            if changes and order_id not in written:
                entry.stored = None  # lost to a concurrent change: redone from a fresh read
                continue
            metrics.UPSERTED.labels("updated").inc(len(changes))
            entry.outcomes.extend(outcomes)
            for change in changes:
                entry.events.extend(change.events)
            if changes:
                entry.stored = changes[-1].applied()
            entry.copies = []

    async def _project_stored(
        self,
        orders: Sequence[ProjectedOrder],
        *,
        unannounced: Collection[str],
        whatever_failed: bool = False,
    ) -> bool:
        """Projects what was just stored; False (logged) while the query side is away.

        The write stands: MongoDB is the system of record, so ingest and status moves go on
        without the query side. Its events then stay in the outbox instead of taking the fast
        way, and a projection marker joins them (``mark_for_projection``: a change may have no
        event), and the relay's sweep projects each order before it announces it, so the query
        side catches up (and no event announces a change the API cannot show yet) once
        PostgreSQL is back. Any other failure of an ingested batch's projection is raised (the
        batch is redelivered); ``whatever_failed`` defers on any failure (an admin's stored
        move is answered whatever happens to its projection).
        """
        try:
            await self._query_side.project(orders)
        except Exception as exc:
            if not (whatever_failed or is_store_outage(exc)):
                raise
            metrics.PROJECTION_DEFERRED.inc(len(orders))
            self._projection_lag.noticed()
            # ``unannounced``: orders with no event of this write in the outbox (a channel's new
            # address, say), whose entries would bring the sweep: a marker does. Should MongoDB
            # fail too, an ingested batch is redelivered (and projected then).
            try:
                await self._repository.mark_for_projection(
                    {o.order.id: o.revision for o in orders if o.order.id in unannounced}
                )
            except Exception as marking:
                if not whatever_failed:
                    raise marking from exc
                logger.warning(f"projection markers not written: {marking!r}")
            logger.warning(f"query side away: {len(orders)} order(s) wait for the sweep: {exc!r}")
            return False
        return True

    async def _record_copies(self, entry: _BatchOrder) -> None:
        if not entry.copies:
            return
        async with self._writes:
            for copy in entry.copies:
                with correlated(copy.correlation_id):
                    outcome, entry.stored, events = await self._record_channel_order(
                        copy.order, entry.stored
                    )
                entry.outcomes.append(outcome)
                entry.events.extend(events)

    async def _record_channel_order(
        self, incoming: ChannelOrder, known: StoredOrder | None
    ) -> tuple[ChannelOutcome, StoredOrder, Sequence[Event]]:
        order_id = order_id_for(incoming.channel, incoming.external_id)
        for _ in range(MAX_WRITE_ATTEMPTS):
            stored = known or await self._repository.get(order_id)
            known = None  # after a lost race, read afresh
            if stored is None:
                new = new_order(incoming)
                if await self._repository.insert_many([new]):
                    metrics.UPSERTED.labels("created").inc()
                    created = StoredOrder(new.order, 1, new.channel_updated_at)
                    return ChannelOutcome.CREATED, created, new.events
                continue  # another writer inserted it first: apply ours as an update
            decision = decide_channel_update(
                stored.order.status, stored.channel_updated_at, incoming
            )
            if decision.skipped is not None:
                metrics.SKIPPED_STALE.labels(decision.skipped.value).inc()
            change = channel_change(stored, incoming, decision)
            if change is None:
                return ChannelOutcome.UNCHANGED, stored, ()
            if await self._repository.apply(change):
                metrics.UPSERTED.labels("updated").inc()
                return ChannelOutcome.UPDATED, change.applied(), change.events
        raise ConcurrentChangeError(f"order {order_id} kept changing; try again")

    async def move_status(
        self,
        order_id: str,
        target: OrderStatus,
        *,
        changed_by: str,
        note: str | None,
        changed_by_email: str | None = None,
        shipment: Shipment | None = None,
        client_address: str | None = None,
    ) -> Order:
        """An admin's status move, visible in the very next list read (read your writes)."""
        before: list[OrderStatus] = []

        def compute(stored: StoredOrder) -> OrderChange:
            before[:] = [stored.order.status]
            return admin_move(
                stored,
                target,
                changed_by=changed_by,
                note=note,
                changed_by_email=changed_by_email,
                shipment=shipment,
            )

        order = await self._admin_change(order_id, compute)
        if self._audit_trail is not None:
            await self._audit_trail.record(
                "order.status_moved",
                actor_id=changed_by,
                actor_email=changed_by_email,
                target=order_id,
                client_address=client_address,
                details={"from": before[0].value, "to": target.value},
            )
        return order

    async def add_note(self, order_id: str, text: str, *, actor: Actor) -> Order:
        order = await self._admin_change(
            order_id, lambda stored: note_change(stored, text, written_by=actor.principal.user_id)
        )
        await self._audit(actor, "order.note_added", order_id, {"note": order.notes[-1].id})
        return order

    async def change_tags(
        self, order_id: str, add: Sequence[str], remove: Sequence[str], *, actor: Actor
    ) -> Order:
        before: list[str] = []

        def compute(stored: StoredOrder) -> OrderChange | None:
            before[:] = stored.order.tags
            return tags_change(stored, add, remove, changed_by=actor.principal.user_id)

        order = await self._admin_change(order_id, compute)
        if order.tags != before:
            details: dict[str, JsonValue] = {
                "added": list[JsonValue](sorted(set(order.tags) - set(before))),
                "removed": list[JsonValue](sorted(set(before) - set(order.tags))),
            }
            await self._audit(actor, "order.tags_changed", order_id, details)
        return order

    async def record_write_back(
        self,
        order_id: str,
        key: str,
        state: WriteBackState,
        *,
        attempts: int,
        error: str | None = None,
        known: StoredOrder | None = None,
    ) -> None:
        """The channel acknowledged or rejected the status move sent under ``key``; ``known``
        is the order as the sender last read it (read again only if it changed since)."""
        try:
            await self._admin_change(
                order_id,
                lambda stored: write_back_answer(
                    stored, key, state, attempts=attempts, error=error
                ),
                known=known,
            )
        except OrderNotFoundError:
            logger.warning(f"write-back answer for {order_id}, which is not stored")

    async def customer_orders(self, order_id: str) -> tuple[Order, OrderPageRows]:
        order = (await self._require(order_id)).order
        return order, await self._query_side.customer_orders(order)

    async def _audit(
        self, actor: Actor, action: str, target: str, details: dict[str, JsonValue]
    ) -> None:
        if self._audit_trail is not None:
            await self._audit_trail.record(
                action,
                actor=actor.principal,
                actor_email=actor.principal.email,
                target=target,
                client_address=actor.client_address,
                details=details,
            )

    async def _admin_change(
        self,
        order_id: str,
        compute: Callable[[StoredOrder], OrderChange | None],
        *,
        known: StoredOrder | None = None,
    ) -> Order:
        """Computes a change from the stored order (``known``, if the caller has just read it)
        and writes it if the order is still at that revision (else reads it and recomputes);
        projects it and hands its events to the relay."""
        for _ in range(MAX_WRITE_ATTEMPTS):
            stored = known or await self._require(order_id)
            known = None  # after a lost race, read afresh
            change = compute(stored)
            if change is None:
                return stored.order
            if await self._repository.apply(change):
                self._on_write_back(change)
                changed = change.applied()
                # The change is stored; if the query side is away, the admin still gets the
                # answer and the relay's sweep projects the order once it is back.
                projection = [ProjectedOrder(changed.order, changed.revision)]
                unannounced = set() if change.events else {order_id}
                if await self._project_stored(
                    projection, unannounced=unannounced, whatever_failed=True
                ):
                    self._on_written(order_id, change.events)
                return change.result
        raise ConcurrentChangeError(f"order {order_id} kept changing; try again")

    async def move_many(
        self,
        order_ids: Sequence[str],
        target: OrderStatus,
        *,
        changed_by: str,
        note: str | None,
        job_id: str | None = None,
        changed_by_email: str | None = None,
        shipments: Mapping[str, Shipment] | None = None,
        bulk_move: str | None = None,
        client_address: str | None = None,
    ) -> list[MoveOutcome]:
        """The orders of a bulk move, each through the same state machine and outbox as a single
        move; a refusal is an outcome, not an error. The moved orders are projected together
        (one query-side write, not one per order), before the answer, so lists show them. A move
        to SHIPPED takes each order's shipment from ``shipments`` (an order without one is
        refused). Each order moved gets its own audit record, naming the bulk move it was part
        of (``bulk_move``: the job's id, or the id of a page's move).

        Within a job the move's event id is derived from the job, the order and the revision
        it was computed from, so a job resumed after a crash finds the moves it already made
        (their event ids are in the order's history) and never makes one twice."""
        gate = asyncio.Semaphore(_CONCURRENT_WRITES)
        applied: list[OrderChange] = []
        # Moves a crashed run made are projected again: the crash may have come before their
        # projection, and a job must not report an order moved that lists do not show moved.
        made_before: list[ProjectedOrder] = []

        async def move(order_id: str) -> MoveOutcome:
            async with gate:
                return await self._move_one(
                    order_id,
                    target,
                    changed_by,
                    changed_by_email,
                    note,
                    job_id,
                    applied,
                    made_before,
                    None if shipments is None else shipments.get(order_id),
                )

        outcomes = await asyncio.gather(*(move(order_id) for order_id in order_ids))
        projection = [ProjectedOrder(c.result, c.revision) for c in applied] + made_before
        # A crashed run's moves may have been announced already: nothing in the outbox of theirs.
        unannounced = {p.order.id for p in made_before}
        if projection and await self._project_stored(
            projection, unannounced=unannounced, whatever_failed=True
        ):
            for change in applied:
                self._on_written(change.result.id, change.events)
        moved_now = {change.result.id for change in applied}
        if self._audit_trail is not None:
            trail = self._audit_trail
            await asyncio.gather(
                *(
                    trail.record(
                        "order.status_moved",
                        actor_id=changed_by,
                        actor_email=changed_by_email,
                        target=outcome.order_id,
                        client_address=client_address,
                        details=_moved_details(outcome, target, bulk_move),
                    )
                    for outcome in outcomes
                    if outcome.order_id in moved_now
                )
            )
        return list(outcomes)

    async def _move_one(
        self,
        order_id: str,
        target: OrderStatus,
        changed_by: str,
        changed_by_email: str | None,
        note: str | None,
        job_id: str | None,
        applied: list[OrderChange],
        made_before: list[ProjectedOrder],
        shipment: Shipment | None,
    ) -> MoveOutcome:
        for _ in range(MAX_WRITE_ATTEMPTS):
            stored = await self._repository.get(order_id)
            if stored is None:
                return MoveOutcome.refused(order_id, "order_not_found", f"no order {order_id}")
            if job_id is not None and moved_by_job(stored, job_id):
                made_before.append(ProjectedOrder(stored.order, stored.revision))
                return MoveOutcome(order_id, moved=True)
            current = stored.order.status
            if target == OrderStatus.SHIPPED and shipment is None and can_move(current, target):
                return MoveOutcome.refused(
                    order_id,
                    "tracking_number_missing",
                    f"no tracking number was given for {stored.order.external_id}",
                    current,
                )
            event_id = None if job_id is None else job_event_id(job_id, order_id, stored.revision)
            try:
                # The same change as a single move: its write-back to the channel included.
                change = admin_move(
                    stored,
                    target,
                    changed_by=changed_by,
                    note=note,
                    changed_by_email=changed_by_email,
                    shipment=shipment,
                    event_id=event_id,
                )
            except InvalidStatusMoveError as exc:
                code = "already_final" if not ALLOWED_MOVES[current] else "invalid_transition"
                return MoveOutcome.refused(order_id, code, exc.message, current)
            if event_id is not None:
                # A crash between writing the outbox (and write-back) entries and the order
                # leaves entries for a change that never happened; they are dropped before the
                # same change is tried.
                await self._repository.remove_from_outbox([str(event_id)])
                await self._repository.remove_write_back(str(event_id))
            if await self._repository.apply(change):
                self._on_write_back(change)
                applied.append(change)
                return MoveOutcome(order_id, moved=True, from_status=current)
        return MoveOutcome.refused(
            order_id, "concurrent_change", f"order {order_id} kept changing meanwhile"
        )

    async def get(self, order_id: str) -> Order:
        return (await self._require(order_id)).order

    async def detail(self, order_id: str) -> ServedOrder:
        """The order as the API shows it, read from the query side, which every change reaches
        before it is announced (and, PostgreSQL up, before it is answered): a read there costs
        a fifth of one from MongoDB through FerretDB. MongoDB, the system of record, answers
        when the query side does not hold the order, fails, or may lag (``ProjectionLag``)."""
        served = None
        if not self._projection_lag.possible:
            try:
                served = await self._query_side.order_document(order_id)
            except QUERY_SIDE_FAILURES as exc:
                # A read changes nothing: any failure of the query side is MongoDB's to answer.
                logger.debug(f"detail of {order_id} read from MongoDB: {exc!r}")
                self._projection_lag.noticed()
        return served or ServedOrder.of(await self.get(order_id))

    async def tags_in_use(self, limit: int) -> Sequence[tuple[str, int]]:
        return await self._query_side.tags_in_use(limit)

    async def list(self, query: OrderListQuery) -> ListPage:
        return await self._query_side.list_page(query)

    async def stats(self, query: OrderFilters) -> OrderStats:
        return await self._query_side.stats(query)

    async def matching(self, query: OrderMatchQuery) -> Sequence[str]:
        return await self._query_side.matching(query, query.ids)

    async def _require(self, order_id: str) -> StoredOrder:
        stored = await self._repository.get(order_id)
        if stored is None:
            raise OrderNotFoundError(f"no order {order_id}")
        return stored


def _moved_details(
    outcome: MoveOutcome, target: OrderStatus, bulk_move: str | None
) -> dict[str, JsonValue]:
    details: dict[str, JsonValue] = {
        "from": outcome.from_status.value if outcome.from_status else None,
        "to": target.value,
    }
    if bulk_move is not None:
        details["bulkMove"] = bulk_move
    return details
