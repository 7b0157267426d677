"""How an order is stored in MongoDB, the system of record. Only ``repository.py`` uses these.

An ``OrderDocument`` is the canonical ``Order`` (same fields, same camelCase spelling) plus what
the service needs to keep it right:

- ``revision``: bumped by every change, the optimistic-concurrency check of each write and the
  version the query side applies;
- ``channelUpdatedAt``: the channel's own last change, so an older copy never overwrites a newer;
- ``statusHistory[].eventId``: the order event each history entry was announced with, which is
  how the outbox relay tells an applied change from one that never happened;
- ``announcedEvents``: the same for the events of changes without a history entry (notes, tags).

Orders are only ever read and written by ``_id`` (FerretDB indexes nothing else; every list,
search and count is the query side's), so the collection declares no index of its own.
``OutboxDocument`` is one order event waiting to be published, or a projection marker (see
``outbox_relay.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from beanie import Document
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from pymongo import ASCENDING, IndexModel

from orderhub_common.events import Order, StatusHistoryEntry, Timestamp

# Documents written by older versions may carry fields since dropped (e.g. searchKeys).
_STORED = ConfigDict(
    alias_generator=to_camel, validate_by_name=True, validate_by_alias=True, extra="ignore"
)


class OutboxEntry(BaseModel):
    """An order event as the relay publishes it."""

    model_config = _STORED

    event_id: str
    event_type: str
    event: dict[str, Any]


class OutboxDocument(Document):
    """Written before the order change it announces, with the revision that change makes."""

    model_config = _STORED

    id: str = Field(alias="_id")  # type: ignore[assignment]  # the event id
    order_id: str
    revision: int
    position: int  # among the events of one change
    event_type: str
    event: dict[str, Any]
    created_at: datetime

    class Settings:
        name = "order_outbox"
        # Serves the relay's sort on MongoDB; FerretDB sorts the (small) outbox in memory.
        indexes = [
            IndexModel(
                [("orderId", ASCENDING), ("revision", ASCENDING), ("position", ASCENDING)],
                name="orderId_revision_position",
            )
        ]


class WriteBackDocument(Document):
    """A status move to send to the order's channel: the write-back outbox. Written before the
    order change that asks for it, keyed by that change's ``order.status_changed`` event id,
    which is also the idempotency key the channel sees; removed once the channel answered."""

    model_config = _STORED

    id: str = Field(alias="_id")  # type: ignore[assignment]  # the idempotency key
    order_id: str
    channel: str
    external_id: str
    status: str
    shipment: dict[str, Any] | None = None
    attempts: int = 0
    next_attempt_at: datetime
    last_error: str | None = None
    created_at: datetime

    class Settings:
        name = "channel_write_backs"


class StoredHistoryEntry(StatusHistoryEntry):
    model_config = _STORED

    event_id: str | None = None


class OrderDocument(Document, Order):
    model_config = _STORED  # type: ignore[misc]

    id: str = Field(alias="_id")  # type: ignore[assignment]
    status_history: list[StoredHistoryEntry]  # type: ignore[assignment]
    channel_updated_at: Timestamp
    revision: int = 1
    # The ids of the order events of changes that add no history entry (notes, tags), so the
    # relay can tell those changes happened; appended with $push, like the history.
    announced_events: list[str] = Field(default_factory=list)

    class Settings:
        name = "orders"  # no indexes but _id's: nothing reads orders by anything else

    def to_order(self) -> Order:
        return Order.model_validate(
            self.model_dump(
                by_alias=False,
                include=set(Order.model_fields),
                exclude={"status_history": {"__all__": {"event_id"}}},
            )
        )
