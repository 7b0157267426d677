"""The orders domain: the status state machine, channel upserts and admin status moves.

Kafka consumers and HTTP handlers both call ``OrderService``. Every change is computed from the
stored order at some revision and written only if the order is still at it, so a concurrent
change is never overwritten; the events it produces go through the outbox (see ``events.py``),
so none is lost and none is announced for a change that did not happen.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from prometheus_client import Counter

from orderhub_common.errors import ConflictError, NotFoundError
from orderhub_common.events import (
    ChannelOrder,
    Order,
    OrderStatus,
    StatusHistoryEntry,
    StatusSource,
)
from orderhub_common.logging import utc_now
from orders.events import created_event, status_changed_event
from orders.repository import NewOrder, OrderChange, OrderRepository, StoredOrder
from orders.schemas import OrderListQuery, OrderStats

ALLOWED_MOVES: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PLACED: frozenset({OrderStatus.CONFIRMED, OrderStatus.CANCELLED}),
    OrderStatus.CONFIRMED: frozenset({OrderStatus.SHIPPED, OrderStatus.CANCELLED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.DELIVERED}),
    OrderStatus.DELIVERED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}

# A write computed from a revision someone else changed meanwhile is recomputed; this many times.
MAX_WRITE_ATTEMPTS = 5

UPSERTED = Counter(
    "orders_upserted_total",
    "Channel orders written to the store, by result (created, updated)",
    ["result"],
)
SKIPPED_STALE = Counter(
    "orders_skipped_stale_total",
    "Channel status changes ignored: 'stale' (equal or backwards) or 'forbidden' "
    "(no allowed path, e.g. SHIPPED to CANCELLED)",
    ["reason"],
)


class OrderNotFoundError(NotFoundError):
    code = "order_not_found"


class InvalidTransitionError(ConflictError):
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


@dataclass(frozen=True)
class ChannelOutcome:
    created: bool = False
    updated: bool = False
    skipped: SkipReason | None = None


@dataclass(frozen=True)
class OrderPageResult:
    orders: list[Order]
    total: int


class OrderService:
    def __init__(
        self, repository: OrderRepository, *, on_change: Callable[[], None] = lambda: None
    ) -> None:
        self._repository = repository
        # Wakes the outbox relay right after a write instead of at its next sweep.
        self._on_change = on_change

    async def read_ahead(self, incoming: Sequence[ChannelOrder]) -> dict[str, StoredOrder | None]:
        """The stored state of many channel orders in one read, for ``record_channel_order``.
        Each entry serves once: the next copy of the same order is read afresh."""
        order_ids = {order_id_for(o.channel, o.external_id) for o in incoming}
        found = await self._repository.get_many(order_ids)
        return {order_id: found.get(order_id) for order_id in order_ids}

    async def record_channel_order(
        self, incoming: ChannelOrder, *, read_ahead: dict[str, StoredOrder | None] | None = None
    ) -> ChannelOutcome:
        """Idempotent: the same channel copy applied twice changes nothing the second time."""
        order_id = order_id_for(incoming.channel, incoming.external_id)
        for _ in range(MAX_WRITE_ATTEMPTS):
            if read_ahead is not None and order_id in read_ahead:
                stored = read_ahead.pop(order_id)
            else:
                stored = await self._repository.get(order_id)
            if stored is None:
                if await self._repository.insert(self._new_order(order_id, incoming)):
                    UPSERTED.labels("created").inc()
                    self._on_change()
                    return ChannelOutcome(created=True)
                continue  # another writer inserted it first: apply ours as an update
            outcome = await self._apply_channel_copy(stored, incoming)
            if outcome is not None:
                return outcome
        raise ConcurrentChangeError(f"order {order_id} kept changing; try again")

    async def _apply_channel_copy(
        self, stored: StoredOrder, incoming: ChannelOrder
    ) -> ChannelOutcome | None:
        decision = decide_channel_update(stored.order.status, stored.channel_updated_at, incoming)
        if decision.skipped is not None:
            SKIPPED_STALE.labels(decision.skipped.value).inc()
        if not decision.changes_anything:
            return ChannelOutcome(skipped=decision.skipped)
        change = self._channel_change(stored, incoming, decision)
        if not await self._repository.apply(change):
            return None
        UPSERTED.labels("updated").inc()
        if change.events:
            self._on_change()
        return ChannelOutcome(updated=True, skipped=decision.skipped)

    def _new_order(self, order_id: str, incoming: ChannelOrder) -> NewOrder:
        now = utc_now()
        first_seen_at = (
            incoming.placed_at if incoming.status == OrderStatus.PLACED else incoming.updated_at
        )
        order = Order(
            id=order_id,
            external_id=incoming.external_id,
            channel=incoming.channel,
            customer=incoming.customer,
            items=incoming.items,
            total=incoming.total,
            currency=incoming.currency,
            status=incoming.status,
            status_history=[
                StatusHistoryEntry(
                    status=incoming.status, changed_at=first_seen_at, source=StatusSource.CHANNEL
                )
            ],
            placed_at=incoming.placed_at,
            created_at=now,
            updated_at=now,
        )
        return NewOrder(
            order=order, channel_updated_at=incoming.updated_at, events=[created_event(order)]
        )

    def _channel_change(
        self, stored: StoredOrder, incoming: ChannelOrder, decision: ChannelDecision
    ) -> OrderChange:
        order = stored.order
        fields: dict[str, object] = {}
        if decision.refresh_fields:
            fields = {
                "items": incoming.items,
                "total": incoming.total,
                "currency": incoming.currency,
                "placedAt": incoming.placed_at,
            }
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
        return OrderChange(
            order_id=order.id,
            external_id=order.external_id,
            expected_revision=stored.revision,
            status=previous,
            channel_updated_at=max(incoming.updated_at, stored.channel_updated_at),
            history=history,
            events=events,
            customer=incoming.customer if decision.refresh_fields else None,
            fields=fields,
        )

    async def move_status(
        self, order_id: str, target: OrderStatus, *, changed_by: str, note: str | None
    ) -> Order:
        """An admin's status move: only one allowed step at a time, else 409."""
        for _ in range(MAX_WRITE_ATTEMPTS):
            stored = await self._require(order_id)
            current = stored.order.status
            if not can_move(current, target):
                raise InvalidTransitionError(
                    f"an order in {current} cannot move to {target}",
                    details={
                        "from": current.value,
                        "to": target.value,
                        "allowed": sorted(s.value for s in ALLOWED_MOVES[current]),
                    },
                )
            entry = StatusHistoryEntry(
                status=target,
                changed_at=utc_now(),
                changed_by=changed_by,
                source=StatusSource.ADMIN,
                note=note,
            )
            change = OrderChange(
                order_id=order_id,
                external_id=stored.order.external_id,
                expected_revision=stored.revision,
                status=target,
                history=[entry],
                events=[status_changed_event(stored.order, current, entry)],
                channel_updated_at=stored.channel_updated_at,
            )
            if await self._repository.apply(change):
                self._on_change()
                return (await self._require(order_id)).order
        raise ConcurrentChangeError(f"order {order_id} kept changing; try again")

    async def get(self, order_id: str) -> Order:
        return (await self._require(order_id)).order

    async def list(self, query: OrderListQuery) -> OrderPageResult:
        orders, total = await self._repository.page(query)
        return OrderPageResult(orders=orders, total=total)

    async def stats(self) -> OrderStats:
        return await self._repository.stats()

    async def _require(self, order_id: str) -> StoredOrder:
        stored = await self._repository.get(order_id)
        if stored is None:
            raise OrderNotFoundError(f"no order {order_id}")
        return stored
