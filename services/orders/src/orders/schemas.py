"""Request and response models of the orders API (CONTRACT.md section 4)."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field, ValidationInfo, field_validator

from orderhub_common.events import CamelModel, Channel, Order, OrderStatus

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


# Bidirectional overrides and isolates: they make text display other than it reads (Trojan Source).
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _plain_text(value: str) -> str:
    """A note as people write it: NFC-normalized; no NUL, other control characters (but line
    breaks and tabs) or bidirectional controls."""
    value = unicodedata.normalize("NFC", value)
    if any(
        char in _BIDI_CONTROLS or (unicodedata.category(char) == "Cc" and char not in "\n\t")
        for char in value
    ):
        raise ValueError("must not contain control or bidirectional-override characters")
    return value


class OrderStatusChange(CamelModel):
    """An admin's status move. An unknown status is a 422 before anything is read."""

    status: OrderStatus
    note: Annotated[str, Field(max_length=1000), AfterValidator(_plain_text)] | None = None


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
