"""The orders domain: the status state machine, channel upserts and admin status moves.

Kafka consumers and HTTP handlers both call ``OrderService``. Every change is computed from the
stored order at some revision and written only if the order is still at it, so a concurrent
change is never overwritten; the events it produces go through the outbox (see
``outbox_relay.py``), so none is lost and none is announced for a change that did not happen.
Each change is then projected to the query side, which answers lists, search and stats.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from loguru import logger
from pydantic import JsonValue

from orderhub_common.audit import AuditTrail
from orderhub_common.context import correlated, new_id
from orderhub_common.errors import (
    ConflictError,
    DomainError,
    ForbiddenError,
    NotFoundError,
    TooManyRequestsError,
    is_store_outage,
)
from orderhub_common.events import (
    AuditRecorded,
    ChannelOrder,
    Event,
    Order,
    OrderIngested,
    OrderNote,
    OrderStatus,
    Shipment,
    StatusHistoryEntry,
    StatusSource,
    WriteBack,
    WriteBackState,
)
from orderhub_common.logging import utc_now
from orderhub_common.revocation import AccessRevocations
from orderhub_common.security import Principal, Role
from orders import metrics
from orders.download_links import DownloadLinks, LinkHolder, SignedLink
from orders.events import (
    created_event,
    note_added_event,
    status_changed_event,
    tags_changed_event,
    write_back_answered_event,
)
from orders.export_retention import ExportRules
from orders.query_side import (
    UNFINISHED_JOB_STATES,
    ExportLimitReached,
    OrderPageRows,
    ProjectedOrder,
    QuerySide,
    WorkStore,
)
from orders.repository import (
    NewOrder,
    OrderChange,
    OrderRepository,
    StoredOrder,
    WriteBackRequest,
    refreshed,
)
from orders.schemas import (
    AuditEntry,
    AuditPage,
    AuditQuery,
    BulkMoveResult,
    BulkStatusMove,
    DownloadQuery,
    ExportRequest,
    Job,
    JobItem,
    JobItemOutcome,
    JobItemPage,
    JobItemQuery,
    JobKind,
    JobState,
    OrderFilters,
    OrderListQuery,
    OrderStats,
    OrderView,
    Pagination,
    RefusedMove,
    SavedView,
    SavedViewChange,
    SavedViewWrite,
)

ALLOWED_MOVES: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PLACED: frozenset({OrderStatus.CONFIRMED, OrderStatus.CANCELLED}),
    OrderStatus.CONFIRMED: frozenset({OrderStatus.SHIPPED, OrderStatus.CANCELLED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.DELIVERED}),
    OrderStatus.DELIVERED: frozenset({OrderStatus.RETURNED}),
    OrderStatus.CANCELLED: frozenset(),
    OrderStatus.RETURNED: frozenset(),
}

# A write computed from a revision someone else changed meanwhile is recomputed; this many times.
MAX_WRITE_ATTEMPTS = 5

# Orders of one batch written at once: enough to hide round trips, few enough for a small store.
_CONCURRENT_WRITES = 8


class OrderNotFoundError(NotFoundError):
    code = "order_not_found"


class InvalidStatusMoveError(ConflictError):
    code = "invalid_transition"


class ConcurrentChangeError(ConflictError):
    """The order kept changing under us; the caller may simply try again."""

    code = "concurrent_change"


def can_move(current: OrderStatus, target: OrderStatus) -> bool:
    return target in ALLOWED_MOVES[current]


def forward_path(current: OrderStatus, target: OrderStatus) -> list[OrderStatus] | None:
    """The shortest chain of allowed moves from ``current`` to ``target`` (excluding
    ``current``), ``[]`` when they are equal, ``None`` when ``target`` cannot be reached."""
    if current == target:
        return []
    seen = {current}
    queue: deque[tuple[OrderStatus, list[OrderStatus]]] = deque([(current, [])])
    while queue:
        status, path = queue.popleft()
        for following in sorted(ALLOWED_MOVES[status]):
            if following == target:
                return [*path, following]
            if following not in seen:
                seen.add(following)
                queue.append((following, [*path, following]))
    return None


@dataclass(frozen=True)
class Actor:
    """Who asks for an admin change, for the audit log."""

    principal: Principal
    client_address: str | None = None


_JOB_EVENTS = uuid.UUID("5d1b8d7e-26a4-4d8f-9c0b-0b7a3f5e8a11")


def job_event_id(job_id: str, order_id: str, from_revision: int) -> uuid.UUID:
    """The event id of the move a job makes of an order at ``from_revision``: the same on every
    attempt, so the order's history tells whether the job already made it."""
    return uuid.uuid5(_JOB_EVENTS, f"{job_id}:{order_id}:{from_revision}")


def moved_by_job(stored: StoredOrder, job_id: str) -> bool:
    return any(
        str(job_event_id(job_id, stored.order.id, revision)) in stored.announced
        for revision in range(1, stored.revision)
    )


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


class SkipReason(StrEnum):
    STALE = "stale"
    FORBIDDEN = "forbidden"


@dataclass(frozen=True)
class ChannelDecision:
    """What a channel's copy of an order changes in the stored one."""

    status_moves: list[OrderStatus] = field(default_factory=list)
    refresh_fields: bool = False
    skipped: SkipReason | None = None

    @property
    def changes_anything(self) -> bool:
        return bool(self.status_moves) or self.refresh_fields


def decide_channel_update(
    status: OrderStatus, channel_updated_at: datetime, incoming: ChannelOrder
) -> ChannelDecision:
    """Status only moves forward along the state machine. A channel that jumps (PLACED straight
    to DELIVERED) gets every intermediate move applied, one history entry and one
    ``order.status_changed`` each, so history and events only ever show allowed moves. Other
    fields follow the channel only when its copy is newer than the one stored."""
    path = forward_path(status, incoming.status)
    # A copy that moves the status on is at least as new as the stored one even when the
    # channel's clock did not tick (Amazon's timestamps are whole seconds): its fields (the
    # shipment of a SHIPPED copy) are taken too.
    refresh_fields = incoming.updated_at > channel_updated_at or (
        bool(path) and incoming.updated_at >= channel_updated_at
    )
    skipped: SkipReason | None = None
    if path is None:
        backwards = forward_path(incoming.status, status) is not None
        skipped = SkipReason.STALE if backwards else SkipReason.FORBIDDEN
    elif not path and not refresh_fields:
        skipped = SkipReason.STALE  # a duplicate or replay of what is stored
    return ChannelDecision(status_moves=path or [], refresh_fields=refresh_fields, skipped=skipped)


def order_id_for(channel: str, external_id: str) -> str:
    """Deterministic, so every replica and every replay names an order the same way."""
    digest = hashlib.sha256(f"{channel}:{external_id}".encode()).hexdigest()
    return f"ord_{digest[:24]}"


class ChannelOutcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


def _first_seen_at(incoming: ChannelOrder) -> datetime:
    return incoming.placed_at if incoming.status == OrderStatus.PLACED else incoming.updated_at


def new_order(incoming: ChannelOrder) -> NewOrder:
    now = utc_now()
    order = Order(
        id=order_id_for(incoming.channel, incoming.external_id),
        external_id=incoming.external_id,
        channel=incoming.channel,
        customer=incoming.customer,
        items=incoming.items,
        total=incoming.total,
        currency=incoming.currency,
        status=incoming.status,
        status_history=[
            StatusHistoryEntry(
                status=incoming.status,
                changed_at=_first_seen_at(incoming),
                source=StatusSource.CHANNEL,
            )
        ],
        placed_at=incoming.placed_at,
        created_at=now,
        updated_at=now,
        shipping_address=incoming.shipping_address,
        payment_method=incoming.payment_method,
        shipment=incoming.shipment,
    )
    return NewOrder(
        order=order, channel_updated_at=incoming.updated_at, events=[created_event(order)]
    )


def channel_change(
    stored: StoredOrder, incoming: ChannelOrder, decision: ChannelDecision
) -> OrderChange:
    """The change a channel's copy makes: every status move on the way, one history entry and
    one event each; the channel's fields when its copy is newer."""
    order = stored.order
    history: list[StatusHistoryEntry] = []
    events = []
    previous = order.status
    for status in decision.status_moves:
        entry = StatusHistoryEntry(
            status=status, changed_at=incoming.updated_at, source=StatusSource.CHANNEL
        )
        history.append(entry)
        events.append(status_changed_event(order, previous, entry))
        previous = status
    base = refreshed(order, incoming) if decision.refresh_fields else order
    result = base.model_copy(
        update={
            "status": previous,
            "status_history": [*order.status_history, *history],
            "updated_at": utc_now(),
        }
    )
    return OrderChange(
        stored=stored,
        result=result,
        channel_updated_at=max(incoming.updated_at, stored.channel_updated_at),
        history=history,
        events=events,
    )


def refused_move_message(order: Order, target: OrderStatus) -> str:
    """Why a move is refused, in words an admin can act on: who put the order where it is."""
    last = order.status_history[-1] if order.status_history else None
    current = order.status
    if last is None or last.status != current:
        return f"an order that is {current.lower()} cannot move to {target.lower()}"
    if last.source == StatusSource.CHANNEL:
        who = "the channel"
    else:
        who = last.changed_by_email or "another admin"
    # Every status name reads as something done to the order: "already shipped this order".
    said = f"{who} already {current.lower()} this order"
    said += f" at {last.changed_at:%Y-%m-%d %H:%M} UTC"
    return said if target == current else f"{said}, so it cannot move to {target.lower()}"


def admin_move(
    stored: StoredOrder,
    target: OrderStatus,
    *,
    changed_by: str,
    note: str | None,
    changed_by_email: str | None = None,
    shipment: Shipment | None = None,
    event_id: uuid.UUID | None = None,
) -> OrderChange:
    """An admin's status move: only one allowed step at a time. Marking an order shipped may
    say who carries it and its tracking number. ``event_id`` is a bulk job's own id for the
    move (else a fresh one); it is also the channel write-back's idempotency key."""
    current = stored.order.status
    if not can_move(current, target):
        last = stored.order.status_history[-1] if stored.order.status_history else None
        raise InvalidStatusMoveError(
            refused_move_message(stored.order, target),
            details={
                "from": current.value,
                "to": target.value,
                "allowed": sorted(s.value for s in ALLOWED_MOVES[current]),
                # Who made the order what it is, so a client can say so in its own words.
                "lastChange": last.model_dump(mode="json", by_alias=True) if last else None,
            },
        )
    now = utc_now()
    entry = StatusHistoryEntry(
        status=target,
        changed_at=now,
        changed_by=changed_by,
        changed_by_email=changed_by_email,
        source=StatusSource.ADMIN,
        note=note,
    )
    event = status_changed_event(stored.order, current, entry)
    if event_id is not None:
        event = event.model_copy(update={"event_id": event_id})
    key = str(event.event_id)  # the channel's idempotency key
    update: dict[str, object] = {
        "status": target,
        "status_history": [*stored.order.status_history, entry],
        "updated_at": now,
        "write_back": WriteBack(
            status=target, state=WriteBackState.PENDING, idempotency_key=key, requested_at=now
        ),
    }
    if shipment is not None and target == OrderStatus.SHIPPED:
        update["shipment"] = shipment
    result = stored.order.model_copy(update=update)
    return OrderChange(
        stored=stored,
        result=result,
        channel_updated_at=stored.channel_updated_at,
        history=[entry],
        events=[event],
        write_back=WriteBackRequest(
            key=key,
            order_id=result.id,
            channel=result.channel.value,
            external_id=result.external_id,
            status=target,
            shipment=result.shipment if target == OrderStatus.SHIPPED else None,
        ),
    )


def write_back_answer(
    stored: StoredOrder,
    key: str,
    state: WriteBackState,
    *,
    attempts: int,
    error: str | None = None,
) -> OrderChange | None:
    """Records the channel's answer to the write-back under ``key``; ``None`` when the order
    no longer waits for it (a later move asked for another, or it was recorded already)."""
    held = stored.order.write_back
    if held is None or held.idempotency_key != key or held.state != WriteBackState.PENDING:
        return None
    now = utc_now()
    answered = held.model_copy(
        update={"state": state, "answered_at": now, "attempts": attempts, "error": error}
    )
    result = stored.order.model_copy(update={"write_back": answered, "updated_at": now})
    return OrderChange(
        stored=stored,
        result=result,
        channel_updated_at=stored.channel_updated_at,
        events=[write_back_answered_event(stored.order, answered)],
    )


def note_change(stored: StoredOrder, text: str, *, written_by: str) -> OrderChange:
    """An admin's note, at any time and in any status."""
    now = utc_now()
    note = OrderNote(id=new_id(), text=text, written_at=now, written_by=written_by)
    result = stored.order.model_copy(
        update={"notes": [*stored.order.notes, note], "updated_at": now}
    )
    return OrderChange(
        stored=stored,
        result=result,
        channel_updated_at=stored.channel_updated_at,
        events=[note_added_event(stored.order, note)],
    )


def normalize_tag(tag: str) -> str:
    return " ".join(tag.casefold().split())


def tags_change(
    stored: StoredOrder, add: Sequence[str], remove: Sequence[str], *, changed_by: str
) -> OrderChange | None:
    """Free tags, kept normalized (lower case, single spaces) and sorted; ``None`` when the
    order already has exactly the tags asked for."""
    held = stored.order.tags
    removing = {normalize_tag(t) for t in remove}
    adding = {normalize_tag(t) for t in add} - removing
    tags = sorted((set(held) - removing) | adding)
    if tags == held:
        return None
    now = utc_now()
    result = stored.order.model_copy(update={"tags": tags, "updated_at": now})
    return OrderChange(
        stored=stored,
        result=result,
        channel_updated_at=stored.channel_updated_at,
        events=[
            tags_changed_event(
                stored.order,
                tags,
                added=sorted(set(tags) - set(held)),
                removed=sorted(set(held) - set(tags)),
                changed_by=changed_by,
                changed_at=now,
            )
        ],
    )


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
        audit: AuditTrail | None = None,
    ) -> None:
        self._audit_trail = audit
        self._repository = repository
        self._query_side = query_side
        # Hands the events of each stored write to the outbox relay, which publishes them at
        # once instead of finding them at its next sweep (``OutboxRelay.confirm``).
        self._on_written = on_written
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
        await asyncio.gather(*(self._record_copies(entry) for entry in batch.values()))
        projected = await self._project_stored(
            [ProjectedOrder(e.stored.order, e.stored.revision) for e in batch.values() if e.stored]
        )
        # Announced once visible: whoever reacts to an event by asking the API finds the order.
        if projected:
            for order_id, entry in batch.items():
                self._on_written(order_id, entry.events)
        return [outcome for entry in batch.values() for outcome in entry.outcomes]

    async def _project_stored(
        self, orders: Sequence[ProjectedOrder], *, whatever_failed: bool = False
    ) -> bool:
        """Projects what was just stored; False (logged) while the query side is away.

        The write stands: MongoDB is the system of record, so ingest and status moves go on
        without the query side. Its events then stay in the outbox instead of taking the fast
        way, and the relay's sweep projects each order before it announces it, so the query
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
            logger.warning(f"query side away: {len(orders)} order(s) wait for the sweep: {exc!r}")
            return False
        return True

    async def _record_copies(self, entry: _BatchOrder) -> None:
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
            if not decision.changes_anything:
                return ChannelOutcome.UNCHANGED, stored, ()
            change = channel_change(stored, incoming, decision)
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
    ) -> None:
        """The channel acknowledged or rejected the status move sent under ``key``."""
        try:
            await self._admin_change(
                order_id,
                lambda stored: write_back_answer(
                    stored, key, state, attempts=attempts, error=error
                ),
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
        self, order_id: str, compute: Callable[[StoredOrder], OrderChange | None]
    ) -> Order:
        """Computes a change from the stored order and writes it if the order is still at that
        revision (else recomputes); projects it and hands its events to the relay."""
        for _ in range(MAX_WRITE_ATTEMPTS):
            stored = await self._require(order_id)
            change = compute(stored)
            if change is None:
                return stored.order
            if await self._repository.apply(change):
                changed = change.applied()
                # The change is stored; if the query side is away, the admin still gets the
                # answer and the relay's sweep projects the order once it is back.
                projection = [ProjectedOrder(changed.order, changed.revision)]
                if await self._project_stored(projection, whatever_failed=True):
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
    ) -> list[MoveOutcome]:
        """The orders of a bulk move, each through the same state machine and outbox as a single
        move; a refusal is an outcome, not an error. The moved orders are projected together
        (one query-side write, not one per order), before the answer, so lists show them.

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
                )

        outcomes = await asyncio.gather(*(move(order_id) for order_id in order_ids))
        projection = [ProjectedOrder(c.result, c.revision) for c in applied] + made_before
        if projection and await self._project_stored(projection, whatever_failed=True):
            for change in applied:
                self._on_written(change.result.id, change.events)
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
    ) -> MoveOutcome:
        for _ in range(MAX_WRITE_ATTEMPTS):
            stored = await self._repository.get(order_id)
            if stored is None:
                return MoveOutcome.refused(order_id, "order_not_found", f"no order {order_id}")
            if job_id is not None and moved_by_job(stored, job_id):
                made_before.append(ProjectedOrder(stored.order, stored.revision))
                return MoveOutcome(order_id, moved=True)
            current = stored.order.status
            event_id = None if job_id is None else job_event_id(job_id, order_id, stored.revision)
            try:
                # The same change as a single move: its write-back to the channel included.
                change = admin_move(
                    stored,
                    target,
                    changed_by=changed_by,
                    note=note,
                    changed_by_email=changed_by_email,
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
                applied.append(change)
                return MoveOutcome(order_id, moved=True, from_status=current)
        return MoveOutcome.refused(
            order_id, "concurrent_change", f"order {order_id} kept changing meanwhile"
        )

    async def get(self, order_id: str) -> Order:
        return (await self._require(order_id)).order

    async def list(self, query: OrderListQuery) -> OrderPageRows:
        return await self._query_side.page(query)

    async def stats(self, query: OrderFilters) -> OrderStats:
        return await self._query_side.stats(query)

    async def _require(self, order_id: str) -> StoredOrder:
        stored = await self._repository.get(order_id)
        if stored is None:
            raise OrderNotFoundError(f"no order {order_id}")
        return stored


# Working on many orders: bulk moves, jobs, exports, saved views, the audit log ---------------


class JobNotFoundError(NotFoundError):
    code = "job_not_found"


class JobFinishedError(ConflictError):
    code = "job_finished"


class ExportNotReadyError(ConflictError):
    code = "export_not_ready"


class DownloadLinkInvalidError(ForbiddenError):
    code = "download_link_invalid"


class ExportExpiredError(DomainError):
    status_code = 410
    code = "export_expired"


class ExportLimitError(TooManyRequestsError):
    code = "export_limit_reached"


def export_limit_message(reached: ExportLimitReached) -> str:
    if reached.limit == "running":
        return (
            f"you already have {reached.allowed} exports queued or running; wait for one to "
            "finish (or cancel one) before starting another"
        )
    return (
        f"you have started {reached.allowed} exports in the last 24 hours, the most allowed; "
        f"try again in {-(-reached.retry_after_s // 60)} minutes"
    )


def signed_link(query: DownloadQuery) -> SignedLink | None:
    """The link a download names; None when it lacks a part (one made before links named their
    user) or names no role there is."""
    if query.user is None or query.version is None or query.issued is None:
        return None
    if query.role not in {role.value for role in Role}:
        return None
    return SignedLink(
        LinkHolder(query.user, Role(query.role), query.version),
        query.issued,
        query.expires,
        query.signature,
    )


class ViewNotFoundError(NotFoundError):
    code = "view_not_found"


class ViewNameTakenError(ConflictError):
    code = "view_name_taken"


class ViewChangeForbiddenError(ForbiddenError):
    code = "forbidden"


def job_of(row: dict[str, Any]) -> Job:
    """A stored job as the API serves it (without a download link: ``JobService`` adds it)."""
    params = row["params"]
    job = Job(
        id=row["id"],
        kind=JobKind(row["kind"]),
        state=JobState(row["state"]),
        created_by=row["created_by"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        finished_at=row["finished_at"],
        total=row["total"],
        processed=row["processed"],
        moved=row["moved"],
        refused=row["refused"],
        cancel_requested=row["cancel_requested"],
        error=row["error"],
        status=params.get("status"),
        view=OrderView.model_validate(params.get("view") or {}),
    )
    return job


# The creator's access version when the job was started (``jobs.JobRunner`` stops the job once it
# moves).
CREATOR_VERSION = "creatorVersion"


def _new_job_row(kind: JobKind, creator: Principal, params: dict[str, Any]) -> dict[str, Any]:
    now = utc_now()
    return {
        "id": f"job_{uuid.uuid4().hex}",
        "kind": kind.value,
        "state": JobState.QUEUED.value,
        "created_by": creator.user_id,
        "created_at": now,
        "updated_at": now,
        "params": {**params, CREATOR_VERSION: creator.token_version},
        "total": 0,
        "processed": 0,
        "moved": 0,
        "refused": 0,
        "cancel_requested": False,
    }


class JobService:
    """Bulk status moves and exports: started here, run by ``jobs.JobRunner`` in the
    background (any replica, resumed after a crash), read and cancelled here."""

    def __init__(
        self,
        orders: OrderService,
        store: WorkStore,
        links: DownloadLinks,
        *,
        audit: AuditTrail | None = None,
        wake: Callable[[], None] = lambda: None,
        rules: ExportRules | None = None,
        revocations: AccessRevocations | None = None,
    ) -> None:
        self._orders = orders
        self._store = store
        self._links = links
        self._audit = audit
        self._wake = wake
        self._rules = rules or ExportRules()
        self._revocations = revocations

    async def _record(self, action: str, *, actor: Principal, **kwargs: Any) -> None:
        if self._audit is not None:
            await self._audit.record(action, actor=actor, actor_email=actor.email, **kwargs)

    async def move_page(
        self, request: BulkStatusMove, actor: Principal, client_address: str | None
    ) -> BulkMoveResult:
        """The orders picked on a page, moved now (each as a single move would be)."""
        ids = list(dict.fromkeys(request.order_ids or []))
        outcomes = await self._orders.move_many(
            ids,
            request.status,
            changed_by=actor.user_id,
            changed_by_email=actor.email,
            note=request.note,
        )
        result = BulkMoveResult(
            moved=[o.order_id for o in outcomes if o.moved],
            refused=[
                RefusedMove(order_id=o.order_id, code=o.code or "", message=o.message or "")
                for o in outcomes
                if not o.moved
            ],
        )
        await self._record(
            "bulk_move.applied",
            actor=actor,
            target=request.status.value,
            client_address=client_address,
            details={
                "status": request.status.value,
                "moved": len(result.moved),
                "refused": len(result.refused),
                "orderIds": cast_json(ids),
            },
        )
        return result

    async def start_bulk_move(
        self, request: BulkStatusMove, actor: Principal, client_address: str | None
    ) -> Job:
        view = request.view or OrderView()
        row = _new_job_row(
            JobKind.STATUS_MOVE,
            actor,
            {
                "status": request.status.value,
                "note": request.note,
                "changedByEmail": actor.email,
                "view": view.model_dump(mode="json", by_alias=True, exclude_none=True),
            },
        )
        stored = await self._store.create_job(
            row, items_of=view, sort=(view.sort_by.value, view.sort_order)
        )
        self._wake()
        job = job_of(stored)
        await self._record(
            "bulk_move.started",
            actor=actor,
            target=job.id,
            client_address=client_address,
            details={
                "status": request.status.value,
                "total": job.total,
                "view": row["params"]["view"],
            },
        )
        return job

    async def start_export(
        self, request: ExportRequest, actor: Principal, client_address: str | None
    ) -> Job:
        view = request.view
        row = _new_job_row(
            JobKind.EXPORT,
            actor,
            {"view": view.model_dump(mode="json", by_alias=True, exclude_none=True)},
        )
        row["total"] = await self._store.count(view)
        stored = await self._store.create_export(
            row,
            running_limit=self._rules.running_per_user,
            daily_limit=self._rules.per_user_per_day,
        )
        if isinstance(stored, ExportLimitReached):
            raise ExportLimitError(export_limit_message(stored), retry_after_s=stored.retry_after_s)
        job = job_of(stored)
        self._wake()
        await self._record(
            "export.requested",
            actor=actor,
            target=job.id,
            client_address=client_address,
            details={"view": row["params"]["view"], "total": job.total},
        )
        return job

    async def _visible(self, job_id: str, reader: Principal) -> dict[str, Any]:
        row = await self._store.job(job_id)
        # Viewers see their own exports only; a job of someone else's is as good as absent.
        if row is None or (reader.role != Role.ADMIN and row["created_by"] != reader.user_id):
            raise JobNotFoundError(f"no job {job_id}")
        return row

    async def get(self, job_id: str, reader: Principal) -> Job:
        return self._served(await self._visible(job_id, reader), reader)

    def _served(self, row: dict[str, Any], reader: Principal) -> Job:
        """The job; a finished export whose file is kept with a fresh link made for ``reader``,
        expiring no later than the file is kept."""
        job = job_of(row)
        if job.kind != JobKind.EXPORT or job.state != JobState.SUCCEEDED:
            return job
        if row.get("files_deleted_at") is not None or job.finished_at is None:
            return job
        kept_until = int(self._rules.files_kept_until(job.finished_at).timestamp())
        now = time.time()
        if kept_until <= now:
            return job
        holder = LinkHolder(reader.user_id, reader.role, reader.token_version)
        url, expires = self._links.link(job.id, holder, now=now, not_after=kept_until)
        job.download_url = url
        job.download_expires_at = datetime.fromtimestamp(expires, tz=UTC)
        return job

    async def items(self, job_id: str, query: JobItemQuery, reader: Principal) -> JobItemPage:
        await self._visible(job_id, reader)
        outcome = None if query.outcome is None else query.outcome.value
        rows, total = await self._store.item_page(
            job_id, outcome, (query.page - 1) * query.limit, query.limit
        )
        return JobItemPage(
            items=[
                JobItem(
                    position=row["position"],
                    order_id=row["order_id"],
                    outcome=JobItemOutcome(row["outcome"] or "pending"),
                    code=row["reason"],
                    from_status=row["from_status"],
                )
                for row in rows
            ],
            pagination=Pagination(
                page=query.page,
                limit=query.limit,
                total=total,
                total_pages=-(-total // query.limit),
            ),
        )

    async def cancel(self, job_id: str, actor: Principal, client_address: str | None) -> Job:
        row = await self._visible(job_id, actor)
        if row["state"] not in UNFINISHED_JOB_STATES:
            raise JobFinishedError(f"job {job_id} has already finished ({row['state']})")
        await self._store.request_cancel(job_id)
        await self._record(
            f"{'bulk_move' if row['kind'] == JobKind.STATUS_MOVE else 'export'}.cancelled",
            actor=actor,
            target=job_id,
            client_address=client_address,
            details={"processed": row["processed"], "total": row["total"]},
        )
        return self._served(await self._visible(job_id, actor), actor)

    async def download(self, job_id: str, query: DownloadQuery) -> tuple[str, AsyncIterator[bytes]]:
        """The export's file name and its bytes, for a signed link that has not expired, made
        for a user who may still read it (its owner, or an admin) and whose access has not
        changed since (demoted, deactivated)."""
        link = signed_link(query)
        if link is None or not self._links.valid(job_id, link):
            raise DownloadLinkInvalidError("this download link is not valid or has expired")
        holder = link.holder
        if (
            self._revocations is not None
            and await self._revocations.current_version(holder.user_id) != holder.access_version
        ):
            raise DownloadLinkInvalidError(
                "the account this link was made for has changed since; ask for a new link"
            )
        row = await self._store.job(job_id)
        if row is None or row["kind"] != JobKind.EXPORT:
            raise JobNotFoundError(f"no export {job_id}")
        if row["created_by"] != holder.user_id and holder.role != Role.ADMIN:
            raise DownloadLinkInvalidError("this download link was not made for this export")
        if row["state"] != JobState.SUCCEEDED:
            raise ExportNotReadyError(f"export {job_id} is {row['state']}, not finished")
        if row.get("files_deleted_at") is not None:
            raise ExportExpiredError(
                f"export {job_id}'s file was deleted after it was kept "
                f"{self._rules.retention_s // 60} minutes; export the view again"
            )
        stamp = row["created_at"].strftime("%Y%m%d-%H%M%S")
        return f"orders-{stamp}.csv", self._store.export_data(job_id)


def cast_json(values: Sequence[str]) -> list[JsonValue]:
    return list(values)


def view_of(row: dict[str, Any], reader_id: str) -> SavedView:
    return SavedView(
        id=row["id"],
        name=row["name"],
        owner_id=row["owner_id"],
        mine=row["owner_id"] == reader_id,
        shared=row["shared"],
        is_default=row["is_default"] and row["owner_id"] == reader_id,
        view=OrderView.model_validate(row["query"]),
        columns=list(row["columns"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


class SavedViewService:
    """Named presets of the list, per user; an admin may share one with the team."""

    def __init__(self, store: WorkStore, *, audit: AuditTrail | None = None) -> None:
        self._store = store
        self._audit = audit

    async def _record(self, action: str, *, actor: Principal, **kwargs: Any) -> None:
        if self._audit is not None:
            await self._audit.record(action, actor=actor, actor_email=actor.email, **kwargs)

    async def list(self, reader: Principal) -> list[SavedView]:
        return [view_of(row, reader.user_id) for row in await self._store.views_for(reader.user_id)]

    async def create(
        self, request: SavedViewWrite, actor: Principal, client_address: str | None
    ) -> SavedView:
        if request.shared and actor.role != Role.ADMIN:
            raise ViewChangeForbiddenError("only an admin may share a view with the team")
        now = utc_now()
        row = {
            "id": f"view_{uuid.uuid4().hex}",
            "owner_id": actor.user_id,
            "name": request.name,
            "shared": request.shared,
            "is_default": request.is_default,
            "query": request.view.model_dump(mode="json", by_alias=True, exclude_none=True),
            "columns": request.columns,
            "created_at": now,
            "updated_at": now,
        }
        saved = await self._store.save_view(row, is_new=True)
        if saved is None:
            raise ViewNameTakenError(f"you already have a view named {request.name!r}")
        await self._record_saved(saved, actor, client_address, shared_now=request.shared)
        return view_of(saved, actor.user_id)

    async def _record_saved(
        self, row: dict[str, Any], actor: Principal, client_address: str | None, *, shared_now: bool
    ) -> None:
        details: dict[str, JsonValue] = {"name": row["name"], "shared": row["shared"]}
        await self._record(
            "view.saved",
            actor=actor,
            target=row["id"],
            client_address=client_address,
            details=details,
        )
        if shared_now:
            await self._record(
                "view.shared",
                actor=actor,
                target=row["id"],
                client_address=client_address,
                details=details,
            )

    async def _owned(self, view_id: str, actor: Principal) -> dict[str, Any]:
        row = await self._store.view(view_id)
        if row is None or (row["owner_id"] != actor.user_id and not row["shared"]):
            raise ViewNotFoundError(f"no view {view_id}")
        if row["owner_id"] != actor.user_id and actor.role != Role.ADMIN:
            raise ViewChangeForbiddenError("a view shared by the team is changed by an admin")
        return row

    async def change(
        self, view_id: str, request: SavedViewChange, actor: Principal, client_address: str | None
    ) -> SavedView:
        row = await self._owned(view_id, actor)
        if (
            request.shared is not None
            and request.shared != row["shared"]
            and actor.role != Role.ADMIN
        ):
            raise ViewChangeForbiddenError("only an admin may share a view with the team")
        changed = dict(row)
        if request.name is not None:
            changed["name"] = request.name
        if request.view is not None:
            changed["query"] = request.view.model_dump(
                mode="json", by_alias=True, exclude_none=True
            )
        if request.columns is not None:
            changed["columns"] = request.columns
        if request.is_default is not None:
            if row["owner_id"] != actor.user_id:
                raise ViewChangeForbiddenError("only a view's owner makes it their default")
            changed["is_default"] = request.is_default
        if request.shared is not None:
            changed["shared"] = request.shared
        changed["updated_at"] = utc_now()
        saved = await self._store.save_view(changed, is_new=False)
        if saved is None:
            raise ViewNameTakenError(f"you already have a view named {changed['name']!r}")
        await self._record_saved(
            saved, actor, client_address, shared_now=bool(request.shared) and not row["shared"]
        )
        return view_of(saved, actor.user_id)

    async def delete(self, view_id: str, actor: Principal, client_address: str | None) -> None:
        row = await self._owned(view_id, actor)
        await self._store.delete_view(view_id)
        await self._record(
            "view.deleted",
            actor=actor,
            target=view_id,
            client_address=client_address,
            details={"name": row["name"]},
        )


class AuditLog:
    """The audit keeper: stores every ``audit.v1`` record once, and serves the log."""

    def __init__(self, store: WorkStore) -> None:
        self._store = store

    async def keep(self, records: Sequence[AuditRecorded]) -> int:
        now = utc_now()
        rows = {
            str(r.event_id): {
                "event_id": str(r.event_id),
                "occurred_at": r.occurred_at,
                "recorded_at": now,
                "service": r.service,
                "action": r.action,
                "outcome": r.outcome.value,
                "actor_id": r.actor_id,
                "actor_email": r.actor_email,
                "target": r.target,
                "client_address": r.client_address,
                "request_id": r.request_id,
                "correlation_id": r.correlation_id,
                "details": r.details,
            }
            for r in records
        }
        return await self._store.append_audit(list(rows.values()))

    async def page(self, query: AuditQuery) -> AuditPage:
        rows, total = await self._store.audit_page(query)
        return AuditPage(
            records=[
                AuditEntry.model_validate({k: v for k, v in row.items() if k != "correlation_id"})
                for row in rows
            ],
            pagination=Pagination(
                page=query.page,
                limit=query.limit,
                total=total,
                total_pages=-(-total // query.limit),
            ),
        )
