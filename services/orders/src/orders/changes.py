"""The changes an order goes through, each computed from the stored order at one revision: a
channel's new order or newer copy, an admin's status move, note and tags, the channel's
answer to a write-back. Pure: ``OrderService`` reads, computes with these and writes.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import datetime

from orderhub_common.context import new_id
from orderhub_common.events import (
    CHANNEL_OWNED_FIELDS,
    ChannelOrder,
    Order,
    OrderNote,
    OrderStatus,
    Shipment,
    StatusHistoryEntry,
    StatusSource,
    WriteBack,
    WriteBackState,
)
from orderhub_common.logging import utc_now
from orders.errors import InvalidStatusMoveError
from orders.events import (
    created_event,
    note_added_event,
    status_changed_event,
    tags_changed_event,
    write_back_answered_event,
)
from orders.repository import (
    NewOrder,
    OrderChange,
    StoredOrder,
    WriteBackRequest,
    refresh_from_channel,
)
from orders.state_machine import ALLOWED_MOVES, ChannelDecision, can_move, refused_move_message

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


def order_id_for(channel: str, external_id: str) -> str:
    """Deterministic, so every replica and every replay names an order the same way."""
    digest = hashlib.sha256(f"{channel}:{external_id}".encode()).hexdigest()
    return f"ord_{digest[:24]}"


def _first_seen_at(incoming: ChannelOrder) -> datetime:
    return incoming.placed_at if incoming.status == OrderStatus.PLACED else incoming.updated_at


def new_order(incoming: ChannelOrder) -> NewOrder:
    now = utc_now()
    order = Order.model_validate(
        {
            **incoming.model_dump(include=set(CHANNEL_OWNED_FIELDS)),
            "id": order_id_for(incoming.channel, incoming.external_id),
            "status": incoming.status,
            "status_history": [
                StatusHistoryEntry(
                    status=incoming.status,
                    changed_at=_first_seen_at(incoming),
                    source=StatusSource.CHANNEL,
                )
            ],
            "created_at": now,
            "updated_at": now,
        }
    )
    return NewOrder(
        order=order, channel_updated_at=incoming.updated_at, events=[created_event(order)]
    )


def channel_change(
    stored: StoredOrder, incoming: ChannelOrder, decision: ChannelDecision
) -> OrderChange | None:
    """The change a channel's copy makes: every status move on the way, one history entry and
    one event each; the channel's fields when its copy is newer. None when the copy changes
    nothing stored: it is older or a replay (the decision moves no status and takes no field),
    or it is newer but carries what is stored already, as the channel's echo of an admin's move
    that Order Hub sent it does. Nothing is written then, and the order's ``updatedAt`` stays:
    no copy can come between the stored one and the echo with other fields, as the channel
    changed nothing in between."""
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
    base = refresh_from_channel(order, incoming) if decision.refresh_fields else order
    if not history and base == order:
        return None
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
