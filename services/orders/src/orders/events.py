"""What orders publishes on ``orders.events.v1``: the order events, built from the domain's
changes. Pure; publishing them (through the outbox) is ``outbox_relay.py``'s job."""

from __future__ import annotations

from orderhub_common.events import (
    Order,
    OrderCreated,
    OrderStatus,
    OrderStatusChanged,
    StatusHistoryEntry,
)


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
