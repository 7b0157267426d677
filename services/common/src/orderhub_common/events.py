"""Event schemas of CONTRACT.md section 5, shared by every producer and consumer.

The canonical order lives here because it is the payload of ``orders.ingested.v1`` and
``orders.events.v1``; the services own what they do with it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    PlainSerializer,
)
from pydantic.alias_generators import to_camel

from orderhub_common.context import current_correlation_id
from orderhub_common.logging import utc_now
from orderhub_common.text import ChannelText, SingleLineText

SCHEMA_VERSION: Literal[1] = 1


def _to_milliseconds(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _iso_milliseconds(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# Every timestamp Order Hub stores or sends: an instant kept to the millisecond (what MongoDB
# keeps) and written in one fixed form, "2026-11-01T10:00:59.098Z", so clients that sort the
# strings get them in time order.
Timestamp = Annotated[
    AwareDatetime,
    AfterValidator(_to_milliseconds),
    PlainSerializer(_iso_milliseconds, return_type=str, when_used="json"),
]


class Channel(StrEnum):
    WEBSITE = "website"
    AMAZON = "amazon"
    BLINKIT = "blinkit"


class OrderStatus(StrEnum):
    PLACED = "PLACED"
    CONFIRMED = "CONFIRMED"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"
    RETURNED = "RETURNED"


class StatusSource(StrEnum):
    CHANNEL = "channel"
    ADMIN = "admin"


class CamelModel(BaseModel):
    """JSON in camelCase (the contract's shape), Python attributes in snake_case."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="forbid",
    )


# Text a channel sent is cleaned of control and bidirectional characters wherever an order is
# read (ingest's normalizers, the orders consumer, the stores): see orderhub_common.text.
NonEmptyText = Annotated[ChannelText, Field(min_length=1, max_length=500)]
Money = Annotated[float, Field(ge=0, le=100_000_000)]


class Customer(CamelModel):
    name: NonEmptyText
    phone: Annotated[ChannelText, Field(min_length=3, max_length=40)]
    email: Annotated[ChannelText, Field(max_length=320)] | None = None


class OrderItem(CamelModel):
    sku: Annotated[ChannelText, Field(min_length=1, max_length=100)]
    name: NonEmptyText
    qty: Annotated[int, Field(ge=1, le=10_000)]
    price: Money


class PaymentMethod(StrEnum):
    PREPAID = "prepaid"
    CASH_ON_DELIVERY = "cash_on_delivery"


class ShippingAddress(CamelModel):
    """Where the order goes, as the channel gave it."""

    name: NonEmptyText
    phone: Annotated[ChannelText, Field(max_length=40)] | None = None
    line1: Annotated[ChannelText, Field(max_length=500)] | None = None
    line2: Annotated[ChannelText, Field(max_length=500)] | None = None
    city: NonEmptyText
    state: Annotated[ChannelText, Field(max_length=100)] | None = None
    postal_code: Annotated[ChannelText, Field(max_length=20)] | None = None
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] = "IN"


ShortText = Annotated[ChannelText, Field(min_length=1, max_length=100)]


class Shipment(CamelModel):
    """Who carries the order and how to track it, once it is shipped."""

    carrier: ShortText
    tracking_number: ShortText


class OrderFields(CamelModel):
    """The fields of an order its channel owns: which order it is at the channel, what was
    ordered, where it goes, how it is paid and carried. ``ChannelOrder`` and ``Order`` both carry
    them, under the same rules; Order Hub takes them from the channel's copy and never edits them
    (but for the shipment an admin records when marking an order shipped)."""

    channel: Channel
    # Not cleaned but refused (the event is dead-lettered with the reason): a cleaned id could
    # name another order.
    external_id: Annotated[SingleLineText, Field(min_length=1, max_length=100)]
    customer: Customer
    items: Annotated[list[OrderItem], Field(min_length=1, max_length=500)]
    total: Money
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    placed_at: Timestamp
    # Fulfilment data; absent in copies ingested before channels carried it.
    shipping_address: ShippingAddress | None = None
    payment_method: PaymentMethod | None = None
    shipment: Shipment | None = None


# The one list of the fields a channel owns: copied into a new order, and refreshed from the
# channel's newer copy of an order already held.
CHANNEL_OWNED_FIELDS = frozenset(OrderFields.model_fields)


class ChannelOrder(OrderFields):
    """A canonical order as its channel holds it now: what ingest publishes."""

    status: OrderStatus
    updated_at: Timestamp  # the channel's own last change


class StatusHistoryEntry(CamelModel):
    status: OrderStatus
    changed_at: Timestamp
    changed_by: str | None = None
    # Who ``changed_by`` is, in words people read (the admin's email when the move was made).
    changed_by_email: str | None = None
    source: StatusSource
    note: str | None = None


class OrderNote(CamelModel):
    """An admin's note on an order, written at any time."""

    id: str
    text: Annotated[str, Field(min_length=1, max_length=2000)]
    written_at: Timestamp
    written_by: str | None = None


class WriteBackState(StrEnum):
    PENDING = "pending"  # sent or about to be sent; retried until the channel answers
    ACKNOWLEDGED = "acknowledged"
    REJECTED = "rejected"  # the channel refused it: a person must look


class WriteBack(CamelModel):
    """Where the write-back of the order's last admin status move to its channel stands."""

    status: OrderStatus
    state: WriteBackState
    idempotency_key: str
    requested_at: Timestamp
    answered_at: Timestamp | None = None
    attempts: int = 0
    error: str | None = None


class Order(OrderFields):
    """The canonical order as Order Hub stores and serves it (CONTRACT.md section 4)."""

    id: str
    status: OrderStatus
    status_history: list[StatusHistoryEntry]
    created_at: Timestamp
    updated_at: Timestamp  # Order Hub's own last change
    notes: list[OrderNote] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    write_back: WriteBack | None = None


class Event(CamelModel):
    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    event_type: str
    schema_version: Literal[1] = SCHEMA_VERSION
    occurred_at: Timestamp = Field(default_factory=utc_now)
    correlation_id: str = Field(default_factory=current_correlation_id)


class OrderIngested(Event):
    """``orders.ingested.v1``: an order seen at a channel, normalized (new or changed)."""

    event_type: Literal["order.ingested"] = "order.ingested"
    order: ChannelOrder


class OrderCreated(Event):
    """``orders.events.v1``: an order entered Order Hub."""

    event_type: Literal["order.created"] = "order.created"
    order: Order


class OrderStatusChanged(Event):
    """``orders.events.v1``: a status move was applied to an order."""

    event_type: Literal["order.status_changed"] = "order.status_changed"
    order_id: str
    channel: Channel
    external_id: str
    previous_status: OrderStatus
    status: OrderStatus
    changed_by: str | None
    source: StatusSource
    changed_at: Timestamp


class OrderNoteAdded(Event):
    """``orders.events.v1``: an admin wrote a note on an order."""

    event_type: Literal["order.note_added"] = "order.note_added"
    order_id: str
    channel: Channel
    external_id: str
    note: OrderNote


class OrderTagsChanged(Event):
    """``orders.events.v1``: an order's tags changed (``tags`` is the whole new set)."""

    event_type: Literal["order.tags_changed"] = "order.tags_changed"
    order_id: str
    channel: Channel
    external_id: str
    tags: list[str]
    added: list[str]
    removed: list[str]
    changed_by: str | None
    changed_at: Timestamp


class OrderWriteBackAnswered(Event):
    """``orders.events.v1``: the channel acknowledged or rejected a status move sent to it."""

    event_type: Literal["order.write_back_answered"] = "order.write_back_answered"
    order_id: str
    channel: Channel
    external_id: str
    write_back: WriteBack


class AuditOutcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class AuditRecorded(Event):
    """``audit.v1``: one state-changing action by a person, recorded once.

    Every service publishes its own actions; the keeper stores each by ``event_id``, so a
    redelivered record is kept once. ``action`` is ``<area>.<verb in the past tense>``
    (``order.status_moved``, ``user.signed_in``, ``channel.paused``).
    """

    event_type: Literal["audit.recorded"] = "audit.recorded"
    service: str
    action: str = Field(pattern=r"^[a-z_]+\.[a-z_]+$", max_length=64)
    outcome: AuditOutcome = AuditOutcome.SUCCEEDED
    actor_id: str | None = None
    actor_email: str | None = None
    # What was acted on, in the acting service's terms: an order id, a user id, a channel.
    target: str | None = None
    client_address: str | None = None
    request_id: str | None = None
    details: dict[str, JsonValue] = Field(default_factory=dict)


# Every event type of ``orders.events.v1``; consumers ignore types they do not know.
ORDER_EVENT_TYPES = (
    OrderCreated,
    OrderStatusChanged,
    OrderNoteAdded,
    OrderTagsChanged,
    OrderWriteBackAnswered,
)
OrderEvent = Annotated[
    OrderCreated | OrderStatusChanged | OrderNoteAdded | OrderTagsChanged | OrderWriteBackAnswered,
    Field(discriminator="event_type"),
]


def ingested_key(channel: Channel | str, external_id: str) -> bytes:
    return f"{channel}:{external_id}".encode()
