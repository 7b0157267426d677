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
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from loguru import logger
from pydantic import JsonValue

from orderhub_common.audit import AuditTrail
from orderhub_common.context import correlated, new_id
from orderhub_common.errors import ConflictError, NotFoundError
from orderhub_common.events import (
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
from orderhub_common.security import Principal
from orders import metrics
from orders.events import (
    created_event,
    note_added_event,
    status_changed_event,
    tags_changed_event,
    write_back_answered_event,
)
from orders.query_side import OrderPageRows, ProjectedOrder, QuerySide
from orders.repository import (
    NewOrder,
    OrderChange,
    OrderRepository,
    StoredOrder,
    WriteBackRequest,
    refreshed,
)
from orders.schemas import OrderFilters, OrderListQuery, OrderStats

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
) -> OrderChange:
    """An admin's status move: only one allowed step at a time. Marking an order shipped may
    say who carries it and its tracking number."""
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
        await self._query_side.project(
            ProjectedOrder(e.stored.order, e.stored.revision) for e in batch.values() if e.stored
        )
        # Announced once visible: whoever reacts to an event by asking the API finds the order.
        for order_id, entry in batch.items():
            self._on_written(order_id, entry.events)
        return [outcome for entry in batch.values() for outcome in entry.outcomes]

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
    ) -> Order:
        """An admin's status move, visible in the very next list read (read your writes)."""
        return await self._admin_change(
            order_id,
            lambda stored: admin_move(
                stored,
                target,
                changed_by=changed_by,
                note=note,
                changed_by_email=changed_by_email,
                shipment=shipment,
            ),
        )

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
                await self._project_after_move(change.applied())
                self._on_written(order_id, change.events)
                return change.result
        raise ConcurrentChangeError(f"order {order_id} kept changing; try again")

    async def _project_after_move(self, moved: StoredOrder) -> None:
        # The move is stored and its event is on its way; if the query side is away, the relay
        # projects the order once it is back, so the admin still gets the answer.
        try:
            await self._query_side.project([ProjectedOrder(moved.order, moved.revision)])
        except Exception as exc:
            logger.warning(f"query side not updated after moving {moved.order.id}: {exc!r}")

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
