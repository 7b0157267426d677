"""What orders publishes on ``orders.events.v1``: the order events, built from the domain's
changes. Pure; publishing them (through the outbox) is ``outbox_relay.py``'s job."""

from __future__ import annotations

from datetime import datetime

from orderhub_common.events import (
    Order,
    OrderCreated,
    OrderNote,
    OrderNoteAdded,
    OrderStatus,
    OrderStatusChanged,
    OrderTagsChanged,
    OrderWriteBackAnswered,
    StatusHistoryEntry,
    WriteBack,
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


def note_added_event(order: Order, note: OrderNote) -> OrderNoteAdded:
    return OrderNoteAdded(
        order_id=order.id, channel=order.channel, external_id=order.external_id, note=note
    )


def tags_changed_event(
    order: Order,
    tags: list[str],
    *,
    added: list[str],
    removed: list[str],
    changed_by: str | None,
    changed_at: datetime,
) -> OrderTagsChanged:
    return OrderTagsChanged(
        order_id=order.id,
        channel=order.channel,
        external_id=order.external_id,
        tags=tags,
        added=added,
        removed=removed,
        changed_by=changed_by,
        changed_at=changed_at,
    )


def write_back_answered_event(order: Order, write_back: WriteBack) -> OrderWriteBackAnswered:
    return OrderWriteBackAnswered(
        order_id=order.id,
        channel=order.channel,
        external_id=order.external_id,
        write_back=write_back,
    )
