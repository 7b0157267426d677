"""Request and response models of the orders API (CONTRACT.md section 4)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from orderhub_common.events import CamelModel, Channel, Customer, Order, OrderStatus, Shipment

# An order as the API serves it: exactly the canonical order.
OrderRead = Order


class OrderEnvelope(CamelModel):
    order: OrderRead


class Pagination(CamelModel):
    page: int
    limit: int
    total: int
    total_pages: int


class OrderPage(CamelModel):
    orders: list[OrderRead]
    pagination: Pagination


class OrderStatusChange(CamelModel):
    """An admin's status move. An unknown status is a 422 before anything is read. Marking an
    order SHIPPED may carry its ``shipment`` (carrier and tracking number), no other move."""

    status: OrderStatus
    note: Annotated[str, Field(max_length=1000)] | None = None
    shipment: Shipment | None = None

    @model_validator(mode="after")
    def _shipment_only_when_shipping(self) -> OrderStatusChange:
        if self.shipment is not None and self.status != OrderStatus.SHIPPED:
            raise ValueError("a shipment goes only with the move to SHIPPED")
        return self


class NoteCreate(CamelModel):
    text: Annotated[str, Field(min_length=1, max_length=2000)]

    @field_validator("text")
    @classmethod
    def _not_blank(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("a note needs some text")
        return text.strip()


# A free tag: letters, digits, spaces and - _ : / . #, stored in lower case.
Tag = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[\w\- :/.#]*\w[\w\- :/.#]*$")]


class TagsChange(CamelModel):
    """Tags to add and to remove; removing one the order lacks, or adding one it has, is fine."""

    add: Annotated[list[Tag], Field(max_length=20)] = Field(default_factory=list)
    remove: Annotated[list[Tag], Field(max_length=20)] = Field(default_factory=list)


class CustomerOrders(CamelModel):
    """The other orders of an order's customer: same phone number or same email address."""

    customer: Customer
    orders: list[OrderRead]
    total: int


class DeadLetterState(StrEnum):
    PENDING = "pending"
    REPLAYED = "replayed"
    DISCARDED = "discarded"


class DeadLetterRead(CamelModel):
    """An event that could not be processed, as it was consumed, with its error."""

    id: str
    dead_lettered_at: datetime
    error_type: str
    error: str
    original_topic: str | None = None
    original_partition: int | None = None
    original_offset: int | None = None
    key: str | None = None
    headers: dict[str, str]
    payload: str  # the event's bytes as text (UTF-8, undecodable bytes replaced)
    state: DeadLetterState
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    reason: str | None = None


class DeadLetterPage(CamelModel):
    dead_letters: list[DeadLetterRead]
    pagination: Pagination


class DeadLetterEnvelope(CamelModel):
    dead_letter: DeadLetterRead


class DeadLetterReplay(CamelModel):
    """Replays the event as stored, or ``payload`` instead: the event after a fix."""

    payload: Annotated[str, Field(min_length=1, max_length=1_000_000)] | None = None


class DeadLetterDiscard(CamelModel):
    reason: Annotated[str, Field(min_length=1, max_length=1000)]


class ChannelRevenue(CamelModel):
    channel: Channel
    currency: str
    amount: float


class OrderStats(CamelModel):
    """The dashboard's numbers. Revenue leaves out cancelled orders and is per currency, since
    amounts in different currencies cannot be added."""

    total_orders: int
    by_channel: dict[Channel, int]
    by_status: dict[OrderStatus, int]
    revenue: list[ChannelRevenue]


class SortField(StrEnum):
    PLACED_AT = "placedAt"
    TOTAL = "total"
    STATUS = "status"
    CHANNEL = "channel"
    UPDATED_AT = "updatedAt"


def _as_utc(value: datetime) -> datetime:
    # A timestamp without an offset (or a bare date) is read as UTC.
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("the timestamp is out of range in UTC") from None


Timestamp = Annotated[datetime, AfterValidator(_as_utc)]


class OrderFilters(CamelModel):
    """What narrows the orders of a list or of the stats; any other parameter is a 422."""

    # Only the documented (camelCase) names: `sort_by` is as unknown as `colour`.
    model_config = ConfigDict(extra="forbid", validate_by_name=False, validate_by_alias=True)

    channel: list[Channel] = Field(default_factory=list)
    status: list[OrderStatus] = Field(default_factory=list)
    search: Annotated[str, Field(max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")] | None = None
    # Orders carrying every one of these tags.
    tag: Annotated[list[Tag], Field(max_length=10)] = Field(default_factory=list)
    placed_from: Timestamp | None = Field(None, alias="from")
    placed_to: Timestamp | None = Field(None, alias="to")

    @field_validator("placed_to")
    @classmethod
    def _range_is_ordered(cls, placed_to: datetime | None, info: ValidationInfo) -> datetime | None:
        placed_from = info.data.get("placed_from")
        if placed_to is not None and placed_from is not None and placed_from > placed_to:
            raise ValueError("'to' must not be before 'from'")
        return placed_to


class OrderListQuery(OrderFilters):
    """``GET /orders`` query parameters: the filters, a page and a sort."""

    page: int = Field(1, ge=1, le=1_000_000)
    limit: int = Field(20, ge=1, le=100)
    sort_by: SortField = SortField.PLACED_AT
    sort_order: Literal["asc", "desc"] = "desc"
