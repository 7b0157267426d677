"""The only module that talks to MongoDB (through Beanie, and its PyMongo collection for the
few atomic conditional updates Beanie has no words for).

Works on FerretDB 1.24 as on MongoDB 7: single-document atomic writes only, no transactions,
no ``$facet``, one accumulator per ``$group`` (FerretDB 1.24 computes only the first one of
several), and literal search as an escaped prefix of stored lowercase tokens.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from beanie import SortDirection
from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from orderhub_common.events import (
    Channel,
    Customer,
    Event,
    Order,
    OrderStatus,
    StatusHistoryEntry,
)
from orderhub_common.logging import utc_now
from orders.documents import OrderDocument, OutboxDocument, OutboxEntry, StoredHistoryEntry
from orders.schemas import ChannelRevenue, OrderListQuery, OrderStats, SortField

RELAY_LEASES = "outbox_relay_lease"

# Lets a phone number be found however the admin types it: "+91 98765-43210" -> digits.
_PHONE_LIKE = re.compile(r"^[\d\s+().-]+$")
_MIN_PHONE_DIGITS = 3


@dataclass(frozen=True)
class StoredOrder:
    order: Order
    revision: int
    channel_updated_at: datetime


@dataclass(frozen=True)
class NewOrder:
    order: Order
    channel_updated_at: datetime
    events: Sequence[Event]


@dataclass(frozen=True)
class OrderChange:
    """One atomic change of one order, valid only if it is still at ``expected_revision``."""

    order_id: str
    external_id: str
    expected_revision: int
    status: OrderStatus
    channel_updated_at: datetime
    history: list[StatusHistoryEntry] = field(default_factory=list)
    events: Sequence[Event] = ()
    customer: Customer | None = None
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PendingEvent:
    """An outbox entry: the event of a change meant to bring ``order_id`` to ``revision``."""

    order_id: str
    revision: int
    entry: OutboxEntry
    created_at: datetime


@dataclass(frozen=True)
class AppliedEvents:
    """What an order's document says happened: its revision and the events of its history."""

    revision: int
    event_ids: frozenset[str]


def normalize_text(text: str) -> str:
    return " ".join(text.casefold().split())


def search_keys(order_id: str, external_id: str, customer: Customer) -> list[str]:
    """Tokens a search matches by prefix: ids, the whole name and each word of it, the phone as
    digits (whole and its last ten, i.e. without a country code), the email and its local part."""
    name = normalize_text(customer.name)
    phone = "".join(ch for ch in customer.phone if ch.isdigit())
    keys = [order_id.casefold(), normalize_text(external_id), name, *name.split(" ")]
    if phone:
        keys += [phone, phone[-10:]]
    if customer.email:
        email = normalize_text(customer.email)
        keys += [email, email.split("@", 1)[0]]
    return sorted({key for key in keys if key})


def search_terms(search: str) -> list[str]:
    """The normalized texts a search looks for: the text itself and, when it looks like a phone
    number, its digits too ("402-1234567" may be an external id as well as a phone)."""
    terms = [normalize_text(search)]
    digits = "".join(ch for ch in search if ch.isdigit())
    if _PHONE_LIKE.match(search) and len(digits) >= _MIN_PHONE_DIGITS:
        terms.append(digits)
    return sorted({term for term in terms if term})


def order_filter(query: OrderListQuery) -> dict[str, Any]:
    """The MongoDB filter of a list query. User text only ever becomes an escaped literal
    prefix: ``.*``, ``(`` or ``$where`` match those characters and nothing else."""
    conditions: dict[str, Any] = {}
    if query.channel:
        conditions["channel"] = {"$in": sorted({c.value for c in query.channel})}
    if query.status:
        conditions["status"] = {"$in": sorted({s.value for s in query.status})}
    prefixes = [
        {"searchKeys": {"$regex": f"^{re.escape(term)}"}}
        for term in search_terms(query.search or "")
    ]
    if len(prefixes) == 1:
        conditions.update(prefixes[0])
    elif prefixes:
        conditions["$or"] = prefixes
    placed: dict[str, datetime] = {}
    if query.placed_from is not None:
        placed["$gte"] = query.placed_from
    if query.placed_to is not None:
        placed["$lte"] = query.placed_to
    if placed:
        conditions["placedAt"] = placed
    return conditions


def order_sort(query: OrderListQuery) -> list[tuple[str, SortDirection]]:
    """Ties are broken by id, in the same direction, so pages never repeat or skip an order."""
    direction = SortDirection.ASCENDING if query.sort_order == "asc" else SortDirection.DESCENDING
    return [(SortField(query.sort_by).value, direction), ("_id", direction)]


def _to_order(document: OrderDocument) -> Order:
    return Order(
        id=document.id,
        external_id=document.external_id,
        channel=document.channel,
        customer=document.customer,
        items=document.items,
        total=document.total,
        currency=document.currency,
        status=document.status,
        status_history=[
            StatusHistoryEntry(**entry.model_dump(exclude={"event_id"}))
            for entry in document.status_history
        ],
        placed_at=document.placed_at,
        created_at=document.created_at,
        updated_at=document.updated_at,
    )


def _stored(document: OrderDocument) -> StoredOrder:
    return StoredOrder(
        order=_to_order(document),
        revision=document.revision,
        channel_updated_at=document.channel_updated_at,
    )


def _outbox_documents(
    events: Sequence[Event], order_id: str, revision: int
) -> list[OutboxDocument]:
    now = utc_now()
    return [
        OutboxDocument(
            id=str(event.event_id),
            order_id=order_id,
            revision=revision,
            position=position,
            event_type=event.event_type,
            event=event.model_dump(mode="json"),
            created_at=now,
        )
        for position, event in enumerate(events)
    ]


def _announced(
    history: Sequence[StatusHistoryEntry], events: Sequence[Event]
) -> list[StoredHistoryEntry]:
    """Each history entry stored with the event that announced it: entries and events of a
    change correspond one to one, in order."""
    return [
        StoredHistoryEntry(**entry.model_dump(), event_id=str(event.event_id))
        for entry, event in zip(history, events, strict=True)
    ]


def _bson(value: Any) -> Any:
    """A model (or list of models) as stored: camelCase keys, datetimes kept as datetimes."""
    if isinstance(value, list):
        return [_bson(item) for item in value]
    if hasattr(value, "model_dump"):
        return value.model_dump(by_alias=True)
    return value


class _OrderLocks:
    """One lock per order id, dropped again once nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    @contextlib.asynccontextmanager
    async def hold(self, order_id: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(order_id, asyncio.Lock())
        self._users[order_id] = self._users.get(order_id, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[order_id] -= 1
            if not self._users[order_id]:
                del self._users[order_id], self._locks[order_id]


class OrderRepository:
    """Writes to one order never overlap within this process. FerretDB 1.24 (SQLite backend)
    applies an update as an unisolated read-modify-write: 200 concurrent ``$inc`` on one
    document leave it at about 20, and a revision check can pass twice. MongoDB needs no such
    care, and the revision checks keep several replicas correct there; on FerretDB, run one
    orders replica."""

    def __init__(self) -> None:
        self._locks = _OrderLocks()

    @staticmethod
    def _collection() -> AsyncCollection[dict[str, Any]]:
        return OrderDocument.get_pymongo_collection()

    async def get(self, order_id: str) -> StoredOrder | None:
        document = await OrderDocument.get(order_id)
        return None if document is None else _stored(document)

    async def get_many(self, order_ids: Collection[str]) -> dict[str, StoredOrder]:
        documents = await OrderDocument.find({"_id": {"$in": list(order_ids)}}).to_list()
        return {document.id: _stored(document) for document in documents}

    async def insert(self, new: NewOrder) -> bool:
        """False when the order already exists (its id or its (channel, externalId))."""
        order = new.order
        document = OrderDocument(
            id=order.id,
            channel=order.channel,
            external_id=order.external_id,
            customer=order.customer,
            items=order.items,
            total=order.total,
            currency=order.currency,
            status=order.status,
            status_history=_announced(order.status_history, new.events),
            placed_at=order.placed_at,
            created_at=order.created_at,
            updated_at=order.updated_at,
            channel_updated_at=new.channel_updated_at,
            search_keys=search_keys(order.id, order.external_id, order.customer),
        )
        await self._add_to_outbox(new.events, order.id, revision=1)
        try:
            async with self._locks.hold(order.id):
                await document.insert()
        except DuplicateKeyError:
            return False
        return True

    async def apply(self, change: OrderChange) -> bool:
        """Writes the change and its events at once; False if the order moved on meanwhile."""
        updates: dict[str, Any] = {
            "status": change.status.value,
            "channelUpdatedAt": change.channel_updated_at,
            "updatedAt": utc_now(),
            "revision": change.expected_revision + 1,
        }
        updates.update({name: _bson(value) for name, value in change.fields.items()})
        if change.customer is not None:
            updates["customer"] = _bson(change.customer)
            updates["searchKeys"] = search_keys(
                change.order_id, change.external_id, change.customer
            )
        update: dict[str, Any] = {"$set": updates}
        if change.history:
            history = _bson(_announced(change.history, change.events))
            update["$push"] = {"statusHistory": {"$each": history}}
        await self._add_to_outbox(change.events, change.order_id, change.expected_revision + 1)
        async with self._locks.hold(change.order_id):
            result = await self._collection().update_one(
                {"_id": change.order_id, "revision": change.expected_revision}, update
            )
        return result.modified_count == 1

    async def page(self, query: OrderListQuery) -> tuple[list[Order], int]:
        conditions = order_filter(query)
        documents = (
            await OrderDocument.find(conditions)
            .sort(order_sort(query))
            .skip((query.page - 1) * query.limit)
            .limit(query.limit)
            .to_list()
        )
        total = await OrderDocument.find(conditions).count()
        return [_to_order(d) for d in documents], total

    async def stats(self) -> OrderStats:
        by_channel = await self._count_by("$channel")
        by_status = await self._count_by("$status")
        revenue = await self._aggregate(
            [
                {"$match": {"status": {"$ne": OrderStatus.CANCELLED.value}}},
                {
                    "$group": {
                        "_id": {"channel": "$channel", "currency": "$currency"},
                        "amount": {"$sum": "$total"},
                    }
                },
            ]
        )
        return OrderStats(
            total_orders=sum(by_channel.values()),
            by_channel={c: by_channel.get(c.value, 0) for c in Channel},
            by_status={s: by_status.get(s.value, 0) for s in OrderStatus},
            revenue=sorted(
                (
                    ChannelRevenue(
                        channel=row["_id"]["channel"],
                        currency=row["_id"]["currency"],
                        amount=round(row["amount"], 2),
                    )
                    for row in revenue
                ),
                key=lambda r: (r.channel, r.currency),
            ),
        )

    async def _count_by(self, expression: str) -> dict[str, int]:
        rows = await self._aggregate([{"$group": {"_id": expression, "count": {"$sum": 1}}}])
        return {row["_id"]: row["count"] for row in rows}

    async def _aggregate(self, pipeline: list[dict[str, Any]]) -> list[dict[str, Any]]:
        cursor = await self._collection().aggregate(pipeline)
        return await cursor.to_list()

    # The outbox: a small collection of events waiting to be published, each written before
    # the change it announces. One relay works it at a time (the holder of the relay lease).

    async def take_relay_lease(self, owner: str, now: datetime, until: datetime) -> bool:
        """Takes or renews the one relay lease; False while another relay holds it."""
        leases = OutboxDocument.get_pymongo_collection().database[RELAY_LEASES]
        try:
            held = await leases.find_one_and_update(
                {"_id": "outbox", "$or": [{"owner": owner}, {"until": {"$lt": now}}]},
                {"$set": {"owner": owner, "until": until}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:  # it exists and someone else holds it
            return False
        return held is not None and held["owner"] == owner

    async def _add_to_outbox(self, events: Sequence[Event], order_id: str, revision: int) -> None:
        if events:
            await OutboxDocument.insert_many(_outbox_documents(events, order_id, revision))

    async def pending_events(self, limit: int) -> list[PendingEvent]:
        """Outbox entries, each order's in the order they must be published."""
        documents = (
            await OutboxDocument.find({})
            .sort(
                [(field, SortDirection.ASCENDING) for field in ("orderId", "revision", "position")]
            )
            .limit(limit)
            .to_list()
        )
        return [
            PendingEvent(
                order_id=d.order_id,
                revision=d.revision,
                entry=OutboxEntry(event_id=d.id, event_type=d.event_type, event=d.event),
                created_at=d.created_at,
            )
            for d in documents
        ]

    async def applied_events(self, order_ids: Collection[str]) -> dict[str, AppliedEvents]:
        cursor = self._collection().find(
            {"_id": {"$in": list(order_ids)}}, {"revision": 1, "statusHistory": 1}
        )
        return {
            row["_id"]: AppliedEvents(
                revision=row["revision"],
                event_ids=frozenset(
                    entry["eventId"] for entry in row["statusHistory"] if entry.get("eventId")
                ),
            )
            async for row in cursor
        }

    async def remove_from_outbox(self, event_ids: Collection[str]) -> None:
        if event_ids:
            await OutboxDocument.find({"_id": {"$in": list(event_ids)}}).delete()

    async def count_pending_events(self) -> int:
        return await OutboxDocument.find({}).count()
