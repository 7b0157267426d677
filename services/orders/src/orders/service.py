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

from orderhub_common.context import correlated
from orderhub_common.errors import ConflictError, NotFoundError, is_store_outage
from orderhub_common.events import (
    ChannelOrder,
    Event,
    Order,
    OrderIngested,
    OrderStatus,
    StatusHistoryEntry,
    StatusSource,
)
from orderhub_common.logging import utc_now
from orders import metrics
from orders.events import created_event, status_changed_event
from orders.query_side import OrderPageRows, ProjectedOrder, QuerySide
from orders.repository import NewOrder, OrderChange, OrderRepository, StoredOrder, refreshed
from orders.schemas import OrderFilters, OrderListQuery, OrderStats

ALLOWED_MOVES: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PLACED: frozenset({OrderStatus.CONFIRMED, OrderStatus.CANCELLED}),
    OrderStatus.CONFIRMED: frozenset({OrderStatus.SHIPPED, OrderStatus.CANCELLED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.DELIVERED}),
    OrderStatus.DELIVERED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
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
    refresh_fields = incoming.updated_at > channel_updated_at
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
) -> OrderChange:
    """An admin's status move: only one allowed step at a time."""
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
    result = stored.order.model_copy(
        update={
            "status": target,
            "status_history": [*stored.order.status_history, entry],
            "updated_at": now,
        }
    )
    return OrderChange(
        stored=stored,
        result=result,
        channel_updated_at=stored.channel_updated_at,
        history=[entry],
        events=[status_changed_event(stored.order, current, entry)],
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
    ) -> None:
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
    ) -> Order:
        """An admin's status move, visible in the very next list read (read your writes)."""
        for _ in range(MAX_WRITE_ATTEMPTS):
            change = admin_move(
                await self._require(order_id),
                target,
                changed_by=changed_by,
                note=note,
                changed_by_email=changed_by_email,
            )
            if await self._repository.apply(change):
                moved = change.applied()
                # The move is stored; if the query side is away, the admin still gets the
                # answer and the relay's sweep projects the order once it is back.
                projection = [ProjectedOrder(moved.order, moved.revision)]
                if await self._project_stored(projection, whatever_failed=True):
                    self._on_written(order_id, change.events)
                return change.result
        raise ConcurrentChangeError(f"order {order_id} kept changing; try again")

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
