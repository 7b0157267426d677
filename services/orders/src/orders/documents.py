"""How an order is stored. Only ``repository.py`` uses these classes.

Fields are stored in camelCase, the contract's spelling, so the documents read like the API.
Besides the canonical order, a document carries what the service needs to keep it right:

- ``revision``: bumped by every change, the optimistic-concurrency check of each write;
- ``channelUpdatedAt``: the channel's own last change, so an older copy never overwrites a newer;
- ``searchKeys``: normalized (lowercased) tokens the literal search matches by prefix;
- ``statusHistory[].eventId``: the order event each history entry was announced with, which is
  how the outbox relay tells an applied change from one that never happened.

``OutboxDocument`` is one order event waiting to be published (see ``events.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from beanie import Document
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from pymongo import ASCENDING, DESCENDING, IndexModel

from orderhub_common.events import (
    Channel,
    Customer,
    OrderItem,
    OrderStatus,
    StatusHistoryEntry,
)

_CAMEL = ConfigDict(alias_generator=to_camel, validate_by_name=True, validate_by_alias=True)


class OutboxEntry(BaseModel):
    """An order event as the relay publishes it."""

    model_config = _CAMEL

    event_id: str
    event_type: str
    event: dict[str, Any]


class StoredHistoryEntry(StatusHistoryEntry):
    event_id: str | None = None


class OutboxDocument(Document):
    """Written before the order change it announces, with the revision that change makes."""

    model_config = _CAMEL

    id: str = Field(alias="_id")  # type: ignore[assignment]  # the event id
    order_id: str
    revision: int
    position: int  # among the events of one change
    event_type: str
    event: dict[str, Any]
    created_at: datetime

    class Settings:
        name = "order_outbox"
        indexes = [
            IndexModel(
                [("orderId", ASCENDING), ("revision", ASCENDING), ("position", ASCENDING)],
                name="orderId_revision_position",
            )
        ]


def _with_id(field: str, direction: int) -> IndexModel:
    # Every sort ends with _id, so pages are stable and each sort is one index walk.
    return IndexModel([(field, direction), ("_id", direction)], name=f"{field}_id")


def _filtered_by(field: str) -> IndexModel:
    # The dashboard's usual view: one status (or channel), newest first.
    return IndexModel(
        [(field, ASCENDING), ("placedAt", DESCENDING), ("_id", DESCENDING)],
        name=f"{field}_placedAt_id",
    )


class OrderDocument(Document):
    model_config = _CAMEL

    id: str = Field(alias="_id")  # type: ignore[assignment]
    channel: Channel
    external_id: str
    customer: Customer
    items: list[OrderItem]
    total: float
    currency: str
    status: OrderStatus
    status_history: list[StoredHistoryEntry]
    placed_at: datetime
    created_at: datetime
    updated_at: datetime
    channel_updated_at: datetime
    revision: int = 1
    search_keys: list[str] = Field(default_factory=list)

    class Settings:
        name = "orders"
        indexes = [
            IndexModel(
                [("channel", ASCENDING), ("externalId", ASCENDING)],
                name="channel_externalId",
                unique=True,
            ),
            _with_id("placedAt", DESCENDING),
            _with_id("total", DESCENDING),
            _with_id("updatedAt", DESCENDING),
            _filtered_by("status"),
            _filtered_by("channel"),
            IndexModel([("status", ASCENDING), ("_id", ASCENDING)], name="status_id"),
            IndexModel([("channel", ASCENDING), ("_id", ASCENDING)], name="channel_id"),
            IndexModel([("searchKeys", ASCENDING)], name="searchKeys"),
        ]
