"""The only module that talks to MongoDB (through Beanie, and its PyMongo collection for the
few atomic conditional updates Beanie has no words for).

Orders are touched by ``_id`` alone: a point read, an insert, a revision-checked update. That
is the one statement FerretDB 1.24 pushes down to SQLite's primary key; any other filter, sort,
count or ``$in`` decodes every stored order. So nothing here costs more with more orders
stored: a batch of orders is read as concurrent point reads, never as one ``$in``. Writes are
single-document atomic (no transactions on FerretDB). Lists, search, counts and stats are the
query side's (``query_side.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pymongo
from beanie import SortDirection
from pymongo import DeleteOne, ReturnDocument, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, DuplicateKeyError

from orderhub_common.events import (
    CHANNEL_OWNED_FIELDS,
    ChannelOrder,
    Event,
    Order,
    OrderStatus,
    Shipment,
    StatusHistoryEntry,
)
from orderhub_common.logging import utc_now
from orderhub_common.resources import raise_if_store_known_down
from orders.documents import (
    OrderDocument,
    OutboxDocument,
    OutboxEntry,
    StoredHistoryEntry,
    WriteBackDocument,
)

RELAY_LEASES = "outbox_relay_lease"
# An outbox entry that announces nothing: "project this order". Left when a change could not be
# projected (the query side away) and has no event whose entry would make the sweep do it.
PROJECTION_MARKER = "orders.projection"
# Markers sort after every event of their revision: the order's events are published first.
_MARKER_POSITION = 1_000_000
_DUPLICATE_KEY = 11000
_OUTBOX_SCAN_TIMEOUT_S = 60
# Point reads in flight at once for one batch: enough to hide round trips, few enough to leave
# the store's CPU to the writes.
_CONCURRENT_READS = 16
# Updates sent in one command. FerretDB 1.24 never answers an update command of 100 statements
# or more (measured: 99 take 50 ms, 100 time out); MongoDB would take 100,000.
_UPDATES_PER_COMMAND = 64
# Fields an update never touches: the id, the history (appended with $push), the first sighting.
_KEPT_ON_UPDATE = frozenset({"_id", "statusHistory", "createdAt", "announcedEvents"})


@dataclass(frozen=True)
class StoredOrder:
    """An order as stored: the canonical order at ``revision``, and the event id that
    announced each history entry (``None`` for entries written before events had ids)."""

    order: Order
    revision: int
    channel_updated_at: datetime
    announced: frozenset[str] = frozenset()


@dataclass(frozen=True)
class NewOrder:
    order: Order
    channel_updated_at: datetime
    events: Sequence[Event]


@dataclass(frozen=True)
class WriteBackRequest:
    """A status move to send to the order's channel, under its idempotency key."""

    key: str
    order_id: str
    channel: str
    external_id: str
    status: OrderStatus
    shipment: Shipment | None
    attempts: int = 0
    created_at: datetime = field(default_factory=utc_now)
    last_error: str | None = None
    next_attempt_at: datetime = field(default_factory=utc_now)


def _write_back_document(request: WriteBackRequest, next_attempt_at: datetime) -> WriteBackDocument:
    return WriteBackDocument(
        id=request.key,
        order_id=request.order_id,
        channel=request.channel,
        external_id=request.external_id,
        status=request.status.value,
        shipment=request.shipment.model_dump(mode="json") if request.shipment else None,
        attempts=request.attempts,
        next_attempt_at=next_attempt_at,
        last_error=request.last_error,
        created_at=request.created_at,
    )


def _write_back_request(document: WriteBackDocument) -> WriteBackRequest:
    return WriteBackRequest(
        key=document.id,
        order_id=document.order_id,
        channel=document.channel,
        external_id=document.external_id,
        status=OrderStatus(document.status),
        shipment=Shipment.model_validate(document.shipment) if document.shipment else None,
        attempts=document.attempts,
        created_at=document.created_at,
        last_error=document.last_error,
        next_attempt_at=document.next_attempt_at,
    )


@dataclass(frozen=True)
class OrderChange:
    """One atomic change of one order, computed from ``stored``: valid only while the order is
    still at that revision. ``result`` is the order as the change leaves it."""

    stored: StoredOrder
    result: Order
    channel_updated_at: datetime
    history: list[StatusHistoryEntry] = field(default_factory=list)
    events: Sequence[Event] = ()
    # A status move for the channel, written (like the events) before the order.
    write_back: WriteBackRequest | None = None

    @property
    def revision(self) -> int:
        return self.stored.revision + 1

    def applied(self) -> StoredOrder:
        return StoredOrder(
            order=self.result,
            revision=self.revision,
            channel_updated_at=self.channel_updated_at,
            announced=self.stored.announced | {str(e.event_id) for e in self.events},
        )


@dataclass(frozen=True)
class PendingEvent:
    """An outbox entry: the event of a change meant to bring ``order_id`` to ``revision``, or
    a projection marker (``is_marker``): the order at that revision waits for the query side."""

    order_id: str
    revision: int
    entry: OutboxEntry
    created_at: datetime

    @property
    def is_marker(self) -> bool:
        return self.entry.event_type == PROJECTION_MARKER


def refresh_from_channel(order: Order, incoming: ChannelOrder) -> Order:
    """``order`` with the fields its channel owns taken from the channel's newer copy. Fulfilment
    fields the copy does not carry (an older feed, a shipment Order Hub recorded first) stay."""
    update = {
        name: value
        for name in CHANNEL_OWNED_FIELDS
        if (value := getattr(incoming, name)) is not None
    }
    return order.model_copy(update=update)


def _duplicates_only(exc: BulkWriteError) -> list[int]:
    """The positions of the documents an unordered insert refused as duplicates; raises
    ``exc`` again if anything else failed."""
    errors = exc.details.get("writeErrors", [])
    if any(error.get("code") != _DUPLICATE_KEY for error in errors):
        raise exc
    return [error["index"] for error in errors]


def _stored(document: OrderDocument) -> StoredOrder:
    return StoredOrder(
        order=document.to_order(),
        revision=document.revision,
        channel_updated_at=document.channel_updated_at,
        announced=frozenset(e.event_id for e in document.status_history if e.event_id)
        | frozenset(document.announced_events),
    )


def _announced(
    history: Sequence[StatusHistoryEntry], events: Sequence[Event]
) -> list[StoredHistoryEntry]:
    """Each history entry stored with the event that announced it: entries and the first
    events of a change correspond one to one, in order (the change's other events, notes and
    tags, are recorded in ``announcedEvents``)."""
    return [
        StoredHistoryEntry(**entry.model_dump(), event_id=str(event.event_id))
        for entry, event in zip(history, events[: len(history)], strict=True)
    ]


def _other_event_ids(history: Sequence[StatusHistoryEntry], events: Sequence[Event]) -> list[str]:
    return [str(event.event_id) for event in events[len(history) :]]


def _document(new: NewOrder) -> OrderDocument:
    return OrderDocument.model_validate(
        {
            **new.order.model_dump(by_alias=False),
            "status_history": _announced(new.order.status_history, new.events),
            "channel_updated_at": new.channel_updated_at,
            "revision": 1,
            "announced_events": _other_event_ids(new.order.status_history, new.events),
        }
    )


def outbox_entry(event: Event) -> OutboxEntry:
    """An event as the outbox keeps it and the relay publishes it."""
    return OutboxEntry(
        event_id=str(event.event_id),
        event_type=event.event_type,
        event=event.model_dump(mode="json"),
    )


def _outbox_documents(
    events: Sequence[Event], order_id: str, revision: int
) -> list[OutboxDocument]:
    now = utc_now()
    documents = []
    for position, event in enumerate(events):
        entry = outbox_entry(event)
        documents.append(
            OutboxDocument(
                id=entry.event_id,
                order_id=order_id,
                revision=revision,
                position=position,
                event_type=entry.event_type,
                event=entry.event,
                created_at=now,
            )
        )
    return documents


def _update_of(chain: Sequence[OrderChange]) -> dict[str, Any]:
    """The update that takes an order through ``chain`` (one change or more, each computed from
    the one before): the last one's fields and revision, every change's history entries and
    event ids appended."""
    last = chain[-1]
    result = OrderDocument.model_validate(
        {
            **last.result.model_dump(by_alias=False, exclude={"status_history"}),
            "status_history": [],
            "channel_updated_at": last.channel_updated_at,
            "revision": last.revision,
        }
    ).model_dump(by_alias=True)
    update: dict[str, Any] = {"$set": {k: v for k, v in result.items() if k not in _KEPT_ON_UPDATE}}
    history = [
        entry.model_dump(by_alias=True)
        for change in chain
        for entry in _announced(change.history, change.events)
    ]
    others = [i for change in chain for i in _other_event_ids(change.history, change.events)]
    pushed: dict[str, Any] = {}
    if history:
        pushed["statusHistory"] = {"$each": history}
    if others:
        pushed["announcedEvents"] = {"$each": others}
    if pushed:
        update["$push"] = pushed
    return update


def _shows(found: dict[str, StoredOrder], chain: Sequence[OrderChange]) -> bool:
    """Whether the stored order shows ``chain`` written: at its last revision, with its events."""
    stored = found.get(chain[0].result.id)
    last = chain[-1]
    if stored is None or stored.revision != last.revision:
        return False
    events = {str(e.event_id) for change in chain for e in change.events}
    if events:
        return events <= stored.announced
    return stored.channel_updated_at == last.channel_updated_at


class _OrderLocks:
    """One lock per order id, dropped again once nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    @contextlib.asynccontextmanager
    async def locked(self, order_id: str) -> AsyncIterator[None]:
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
        self._reads = asyncio.Semaphore(_CONCURRENT_READS)

    @staticmethod
    def _collection() -> AsyncCollection[dict[str, Any]]:
        return OrderDocument.get_pymongo_collection()

    async def get(self, order_id: str) -> StoredOrder | None:
        raise_if_store_known_down(self._collection().database.client)
        async with self._reads:
            document = await OrderDocument.get(order_id)
        return None if document is None else _stored(document)

    async def get_many(self, order_ids: Collection[str]) -> dict[str, StoredOrder]:
        """Concurrent point reads: on FerretDB an ``$in`` would decode every stored order."""
        ids = sorted(set(order_ids))
        found = await asyncio.gather(*(self.get(order_id) for order_id in ids))
        return {order_id: stored for order_id, stored in zip(ids, found, strict=True) if stored}

    async def insert_many(self, new_orders: Sequence[NewOrder]) -> set[str]:
        """Inserts the orders (their events first, into the outbox); returns the ids inserted.
        An order that exists already is left out and its events are taken out of the outbox
        again, so a guess that an order is new costs one failed insert and nothing else."""
        if not new_orders:
            return set()
        raise_if_store_known_down(self._collection().database.client)
        outbox = [
            document
            for new in new_orders
            for document in _outbox_documents(new.events, new.order.id, revision=1)
        ]
        if outbox:
            await OutboxDocument.insert_many(outbox)
        documents = [_document(new).model_dump(by_alias=True) for new in new_orders]
        ids = {new.order.id for new in new_orders}
        try:
            await self._collection().insert_many(documents, ordered=False)
        except BulkWriteError as exc:
            existing = {documents[i]["_id"] for i in _duplicates_only(exc)}
            await self.remove_from_outbox(
                [d.id for d in outbox if d.order_id in existing and d.revision == 1]
            )
            return ids - existing
        return ids

    async def apply(self, change: OrderChange) -> bool:
        """Writes the change and its events at once; False if the order moved on meanwhile."""
        raise_if_store_known_down(self._collection().database.client)
        order_id = change.result.id
        await self._add_to_outbox(change.events, order_id, change.revision)
        if change.write_back is not None:
            await _write_back_document(change.write_back, utc_now()).insert()
        async with self._locks.locked(order_id):
            written = await self._collection().update_one(
                {"_id": order_id, "revision": change.stored.revision}, _update_of([change])
            )
        if written.modified_count == 1:
            return True
        if change.write_back is not None:
            # Its move never happened: were it left for the relay to drop after its wait, the
            # relay's sweep would hold the order's later requests behind it until then.
            await self.remove_write_back(change.write_back.key)
        return False

    async def apply_chains(self, chains: Sequence[Sequence[OrderChange]]) -> set[str]:
        """Writes each chain (consecutive changes of one order, each computed from the one
        before) as one conditional update of its order, every chain's events into the outbox
        with one insert and the updates in bulk commands of ``_UPDATES_PER_COMMAND``: a few
        round trips for a batch instead of two per change. Returns the ids of the orders
        written; a chain whose order moved on meanwhile is not written and its outbox entries
        are taken out again."""
        chains = [chain for chain in chains if chain]
        if not chains:
            return set()
        raise_if_store_known_down(self._collection().database.client)
        if any(change.write_back for chain in chains for change in chain):
            raise ValueError("a chain of channel changes asks for no write-back")
        outbox = [
            document
            for chain in chains
            for change in chain
            for document in _outbox_documents(change.events, change.result.id, change.revision)
        ]
        if outbox:
            await OutboxDocument.insert_many(outbox)
        updates = [
            UpdateOne(
                {"_id": chain[0].result.id, "revision": chain[0].stored.revision},
                _update_of(chain),
            )
            for chain in chains
        ]
        ids = sorted(chain[0].result.id for chain in chains)
        async with contextlib.AsyncExitStack() as held:
            for order_id in ids:  # always in one order: two batches never wait for each other
                await held.enter_async_context(self._locks.locked(order_id))
            modified = 0
            for start in range(0, len(updates), _UPDATES_PER_COMMAND):
                chunk = updates[start : start + _UPDATES_PER_COMMAND]
                modified += (
                    await self._collection().bulk_write(chunk, ordered=False)
                ).modified_count
        if modified == len(chains):
            return set(ids)
        # Some order moved on (an admin's move, another replica): tell which by reading them.
        found = await self.get_many(ids)
        done = {chain[0].result.id for chain in chains if _shows(found, chain)}
        await self.remove_from_outbox(
            [d.id for d in outbox if d.order_id not in done]  # changes that never happened
        )
        return done

    async def all_orders(self, batch_size: int = 500) -> AsyncIterator[list[StoredOrder]]:
        """Every stored order, a batch at a time, in no particular order: for the query side's
        rebuild, never for a request."""
        batch: list[StoredOrder] = []
        async for document in OrderDocument.find_all(batch_size=batch_size):
            batch.append(_stored(document))
            if len(batch) >= batch_size:
                yield batch
                batch = []
        if batch:
            yield batch

    # The outbox: a small collection of events waiting to be published, each written before
    # the change it announces. One relay works it at a time (the holder of the relay lease).
    # It stays small, so the statements below that scan it stay cheap on FerretDB.

    async def take_relay_lease(
        self, owner: str, now: datetime, until: datetime, *, relay: str = "outbox"
    ) -> bool:
        """Takes or renews the lease of one relay (``outbox``, ``write_back``) across replicas;
        False while another instance of that relay holds it."""
        leases = OutboxDocument.get_pymongo_collection().database[RELAY_LEASES]
        try:
            held = await leases.find_one_and_update(
                {"_id": relay, "$or": [{"owner": owner}, {"until": {"$lt": now}}]},
                {"$set": {"owner": owner, "until": until}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:  # it exists and someone else holds it
            return False
        return held is not None and held["owner"] == owner

    async def release_relay_lease(self, owner: str, *, relay: str) -> None:
        """Ends ``owner``'s lease of ``relay`` now (another owner's is left as it is)."""
        leases = OutboxDocument.get_pymongo_collection().database[RELAY_LEASES]
        await leases.delete_one({"_id": relay, "owner": owner})

    async def _add_to_outbox(self, events: Sequence[Event], order_id: str, revision: int) -> None:
        if events:
            await OutboxDocument.insert_many(_outbox_documents(events, order_id, revision))

    async def mark_for_projection(self, revisions: dict[str, int]) -> None:
        """Leaves a projection marker for each order (id: the revision it is stored at), for the
        relay's sweep to project it; one marker per order and revision, however often asked."""
        if not revisions:
            return
        raise_if_store_known_down(self._collection().database.client)
        now = utc_now()
        markers = [
            OutboxDocument(
                id=f"{PROJECTION_MARKER}:{order_id}@{revision}",
                order_id=order_id,
                revision=revision,
                position=_MARKER_POSITION,
                event_type=PROJECTION_MARKER,
                event={},
                created_at=now,
            ).model_dump(by_alias=True)
            for order_id, revision in revisions.items()
        ]
        try:
            await OutboxDocument.get_pymongo_collection().insert_many(markers, ordered=False)
        except BulkWriteError as exc:
            _duplicates_only(exc)  # a marker asked for again

    async def pending_events(
        self, limit: int, *, older_than: datetime | None = None
    ) -> list[PendingEvent]:
        """Outbox entries (written before ``older_than``, if given), each order's in the order
        they must be published."""
        criteria = {} if older_than is None else {"createdAt": {"$lt": older_than}}
        # The one statement that reads the whole outbox (on FerretDB): after a long Kafka outage
        # it is large, and the sweep must still get through it to drain it.
        with pymongo.timeout(_OUTBOX_SCAN_TIMEOUT_S):
            documents = (
                await OutboxDocument.find(criteria)
                .sort(
                    [
                        (field, SortDirection.ASCENDING)
                        for field in ("orderId", "revision", "position")
                    ]
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

    async def remove_from_outbox(self, event_ids: Collection[str]) -> None:
        """One command, each entry deleted by its id (an ``$in`` would scan the outbox)."""
        if event_ids:
            await OutboxDocument.get_pymongo_collection().bulk_write(
                [DeleteOne({"_id": event_id}) for event_id in event_ids], ordered=False
            )

    async def count_pending_events(self) -> int:
        return await OutboxDocument.find({}).count()

    # The write-back outbox: status moves waiting for their channel's answer. Small (entries
    # leave once answered), so scanning it stays cheap on FerretDB.

    async def pending_write_backs(self, limit: int) -> list[WriteBackRequest]:
        """Every waiting request (up to ``limit``), oldest first."""
        with pymongo.timeout(_OUTBOX_SCAN_TIMEOUT_S):
            documents = (
                await WriteBackDocument.find({})
                .sort([("createdAt", SortDirection.ASCENDING)])
                .limit(limit)
                .to_list()
            )
        return [_write_back_request(d) for d in documents]

    async def postpone_write_back(self, request: WriteBackRequest, until: datetime) -> None:
        await WriteBackDocument.get_pymongo_collection().update_one(
            {"_id": request.key},
            {
                "$set": {
                    "attempts": request.attempts,
                    "nextAttemptAt": until,
                    "lastError": request.last_error,
                }
            },
        )

    async def remove_write_back(self, key: str) -> None:
        await WriteBackDocument.get_pymongo_collection().delete_one({"_id": key})

    async def count_write_backs(self) -> int:
        return await WriteBackDocument.find({}).count()
