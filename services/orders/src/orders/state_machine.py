"""The order status state machine: which moves are allowed, the path a channel's jump takes,
and why a move is refused. Pure.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from orderhub_common.events import ChannelOrder, Order, OrderStatus, StatusSource

ALLOWED_MOVES: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PLACED: frozenset({OrderStatus.CONFIRMED, OrderStatus.CANCELLED}),
    OrderStatus.CONFIRMED: frozenset({OrderStatus.SHIPPED, OrderStatus.CANCELLED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.DELIVERED}),
    OrderStatus.DELIVERED: frozenset({OrderStatus.RETURNED}),
    OrderStatus.CANCELLED: frozenset(),
    OrderStatus.RETURNED: frozenset(),
}


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
