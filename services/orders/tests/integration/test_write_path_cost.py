"""The cost of ingesting an order does not grow with the orders stored, and a status move costs a
fixed number of store commands: counted in commands, not in time. Every command on the orders
collection names one order by ``_id`` (the only lookup FerretDB serves from an index), and a
batch costs the same commands whether 50 or 1,050 orders are stored. (The outbox's commands are
by id too, and it stays small.)"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import httpx
import orjson
import pytest
from beanie import init_beanie
from pymongo import AsyncMongoClient, DeleteOne, monitoring
from sqlalchemy.engine import make_url

from devstack.pytest_plugin import InfraUrls
from orderhub_common.events import Channel, OrderStatus
from orderhub_common.testing import channel_order
from orders.changes import order_id_for
from orders.documents import OrderDocument, OutboxDocument, WriteBackDocument
from orders.errors import OrderNotFoundError
from orders.outbox_relay import OutboxRelay
from orders.query_side import ProjectedOrder, ProjectionLag, QuerySide
from orders.repository import OrderRepository
from orders.service import OrderService
from orders.write_back import ChannelWriter, WriteBackRelay

from .conftest import (
    T0,
    QuerySideAway,
    compiled_statements,
    drop_database,
    migrated_database,
    record,
    service_database_url,
)

pytestmark = pytest.mark.integration

BATCH = 100


@dataclass
class CommandRecorder(monitoring.CommandListener):
    """Every command sent to the store while ``recording``."""

    recording: bool = False
    commands: list[dict[str, Any]] = field(default_factory=list)

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self.recording:
            self.commands.append({"name": event.command_name, **dict(event.command)})

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    def on_orders(self) -> list[dict[str, Any]]:
        return [c for c in self.commands if c.get(c["name"]) == "orders"]


class Store:
    def __init__(
        self,
        service: OrderService,
        query_side: QuerySide,
        relay: OutboxRelay,
        recorder: CommandRecorder,
    ):
        self.service = service
        self.query_side = query_side
        self.relay = relay
        self.recorder = recorder
        self.stored = 0

    async def add_orders(self, count: int, *, prefix: str = "SEED") -> list[str]:
        """Ingests ``count`` new orders in batches, then publishes their events."""
        ids = [f"{prefix}-{self.stored + n}" for n in range(count)]
        for start in range(0, count, BATCH):
            await record(self.service, *(channel_order(i) for i in ids[start : start + BATCH]))
        self.stored += count
        while await self.relay.publish_confirmed():
            pass
        return ids

    @contextlib.contextmanager
    def recording(self) -> Iterator[None]:
        self.recorder.commands.clear()
        self.recorder.recording = True
        try:
            yield
        finally:
            self.recorder.recording = False

    async def commands_to_ingest(self, external_ids: list[str], **changes: Any) -> Counter[str]:
        """What one batch of channel copies and its relay round cost, by command and shape."""
        with self.recording():
            await record(self.service, *(channel_order(i, **changes) for i in external_ids))
            while await self.relay.publish_confirmed():
                pass
        return Counter(_shape(c) for c in self.recorder.on_orders())


def _shape(command: dict[str, Any]) -> str:
    """A command on the orders collection, described without its values; fails the test if it
    reads or writes orders by anything but ``_id``."""
    name = command["name"]
    if name == "insert":
        return f"insert x{len(command['documents'])}"
    if name == "find":
        criteria = command["filter"]
        assert set(criteria) == {"_id"}, command
        assert isinstance(criteria["_id"], str), command  # a point read, never $in
        return "find by _id"
    if name == "update":
        statements = command["updates"]
        for statement in statements:
            assert isinstance(statement["q"]["_id"], str), command
        criteria = {name for statement in statements for name in statement["q"]} - {"_id"}
        return f"update x{len(statements)} by _id and {sorted(criteria)}"
    raise AssertionError(f"unexpected command on orders: {command}")


@pytest.fixture
async def store(infra: InfraUrls, unique_name: str) -> AsyncIterator[Store]:
    recorder = CommandRecorder()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        infra.mongodb_url, tz_aware=True, event_listeners=[recorder]
    )
    await init_beanie(
        database=client[unique_name],
        document_models=[OrderDocument, OutboxDocument, WriteBackDocument],
    )
    await migrated_database(infra, unique_name)
    query_side = QuerySide(service_database_url(infra, unique_name))
    await query_side.connect()

    async def discard(order_id: str, entry: Any) -> None:
        return None

    repository = OrderRepository()
    relay = OutboxRelay(repository, query_side, discard, batch_size=1000)
    try:
        service = OrderService(repository, query_side, on_written=relay.confirm)
        yield Store(service, query_side, relay, recorder)
    finally:
        await query_side.close()
        await drop_database(infra, unique_name)
        await client.drop_database(unique_name)
        await client.close()


async def test_ingesting_a_batch_costs_the_same_with_50_or_1050_orders_stored(
    store: Store,
) -> None:
    await store.add_orders(50)
    new_small = [f"NEW-A-{n}" for n in range(BATCH)]
    moved_small = (await store.add_orders(BATCH, prefix="MOVE-A"))[:BATCH]
    created_small = await store.commands_to_ingest(new_small)
    replayed_small = await store.commands_to_ingest(new_small)
    shipped_small = await store.commands_to_ingest(
        moved_small, status=OrderStatus.SHIPPED, updated_at=T0.replace(hour=12)
    )

    await store.add_orders(900)
    new_large = [f"NEW-B-{n}" for n in range(BATCH)]
    moved_large = (await store.add_orders(BATCH, prefix="MOVE-B"))[:BATCH]
    created_large = await store.commands_to_ingest(new_large)
    replayed_large = await store.commands_to_ingest(new_large)
    shipped_large = await store.commands_to_ingest(
        moved_large, status=OrderStatus.SHIPPED, updated_at=T0.replace(hour=12)
    )

    assert created_small == created_large
    assert shipped_small == shipped_large
    assert replayed_small == replayed_large
    # New orders (PLACED, so taken for new): one insert for the batch and no read; the relay
    # publishes what the service confirmed without reading any order.
    assert created_small == Counter({f"insert x{BATCH}": 1})
    # A replay of the same PLACED copies: the insert fails for each, then a point read each
    # finds nothing to change.
    assert replayed_small == Counter({f"insert x{BATCH}": 1, "find by _id": BATCH})
    # Status moves: a point read each, and revision-checked updates, one an order, sent in
    # commands of 64 (FerretDB never answers one of 100).
    assert shipped_small == Counter(
        {
            "find by _id": BATCH,
            "update x64 by _id and ['revision']": 1,
            f"update x{BATCH - 64} by _id and ['revision']": 1,
        }
    )


async def test_an_orders_detail_is_read_from_the_query_side_with_no_store_command(
    store: Store,
) -> None:
    [external_id] = await store.add_orders(1)
    stored = await store.service.get(order_id_for(Channel.WEBSITE, external_id))
    with store.recording():
        served = await store.service.detail(stored.id)
    assert store.recorder.commands == []
    assert orjson.loads(served.document) == orjson.loads(stored.model_dump_json())
    assert served.status is stored.status


async def test_an_order_the_query_side_does_not_hold_yet_is_read_from_the_store(
    store: Store,
) -> None:
    """A projection deferred while PostgreSQL was away waits for the relay's sweep; meanwhile
    the order's detail comes from MongoDB, the system of record."""
    [external_id] = await store.add_orders(1)
    stored = await store.service.get(order_id_for(Channel.WEBSITE, external_id))
    await store.query_side.clear()
    with store.recording():
        served = await store.service.detail(stored.id)
    assert Counter(_shape(c) for c in store.recorder.on_orders()) == Counter({"find by _id": 1})
    assert orjson.loads(served.document) == orjson.loads(stored.model_dump_json())
    with pytest.raises(OrderNotFoundError):
        await store.service.detail("ord_never_stored")


async def test_an_orders_detail_opens_while_the_query_side_is_away(
    infra: InfraUrls, unique_name: str, store: Store
) -> None:
    [external_id] = await store.add_orders(1)
    stored = await store.service.get(order_id_for(Channel.WEBSITE, external_id))
    # Nothing listens on port 9 (discard): every query-side read fails to connect.
    url = make_url(service_database_url(infra, unique_name)).set(port=9)
    away = QuerySide(url.render_as_string(hide_password=False))
    try:
        served = await OrderService(OrderRepository(), away).detail(stored.id)
    finally:
        await away.close()
    assert orjson.loads(served.document) == orjson.loads(stored.model_dump_json())


async def test_a_move_made_while_the_query_side_was_away_shows_in_its_detail_at_once(
    store: Store,
) -> None:
    [external_id] = await store.add_orders(1)
    order_id = order_id_for(Channel.WEBSITE, external_id)
    now = 1000.0
    query_side = QuerySideAway(store.query_side)
    service = OrderService(
        OrderRepository(),
        cast(QuerySide, query_side),
        projection_lag=ProjectionLag(settle_s=35, clock=lambda: now),
    )
    # Stored while PostgreSQL is away: its projection waits for the relay's sweep.
    await service.move_status(order_id, OrderStatus.CONFIRMED, changed_by="u-1", note=None)
    query_side.back = True
    behind = await store.query_side.order_document(order_id)
    assert behind is not None
    assert behind.status is OrderStatus.PLACED  # the row is as it was before the move

    now += 34
    assert (await service.detail(order_id)).status is OrderStatus.CONFIRMED

    # The relay's sweep has projected it by then; the query side answers again.
    stored = await OrderRepository().get(order_id)
    assert stored is not None
    await store.query_side.project([ProjectedOrder(stored.order, stored.revision)])
    now += 2
    with store.recording():
        served = await service.detail(order_id)
    assert store.recorder.commands == []
    assert served.status is OrderStatus.CONFIRMED


async def test_a_point_read_is_an_index_search_in_the_store(
    infra: InfraUrls, unique_name: str
) -> None:
    """FerretDB's SQLite backend only searches its _id index with the patch in
    infra/ferretdb/patches; without it every point read and write scans the collection."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infra.mongodb_url)
    try:
        orders = client[unique_name]["orders"]
        await orders.insert_many([{"_id": f"ord_{n}", "n": n} for n in range(50)])
        plan = await client[unique_name].command(
            "explain", {"find": "orders", "filter": {"_id": "ord_49"}, "limit": 1}
        )
        described = str(plan["queryPlanner"])
        assert any(word in described for word in ("USING INDEX", "IDHACK", "IXSCAN")), plan
    finally:
        await client.drop_database(unique_name)
        await client.close()


async def test_a_delete_by_id_deletes_that_document_and_honours_any_other_criterion(
    infra: InfraUrls, unique_name: str
) -> None:
    """The store deletes a lone ``_id`` equality by id without reading it first (the patch in
    infra/ferretdb/patches); what it deletes and counts is what MongoDB would."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infra.mongodb_url)
    try:
        entries = client[unique_name]["order_outbox"]
        await entries.insert_many([{"_id": f"evt-{n}", "n": n} for n in range(6)])

        assert (await entries.delete_one({"_id": "evt-0"})).deleted_count == 1
        assert (await entries.delete_one({"_id": "evt-0"})).deleted_count == 0
        assert (await entries.delete_one({"_id": "evt-1", "n": 99})).deleted_count == 0
        assert (await entries.delete_many({"_id": "evt-2"})).deleted_count == 1
        assert (await entries.delete_one({"_id": {"$in": ["evt-3"]}})).deleted_count == 1
        # As the relay removes what it published: one command, a delete by id each.
        removed = await entries.bulk_write(
            [DeleteOne({"_id": i}) for i in ("evt-4", "evt-404", "evt-5")], ordered=False
        )
        assert removed.deleted_count == 2

        assert [d["_id"] async for d in entries.find({}).sort("_id")] == ["evt-1"]
    finally:
        await client.drop_database(unique_name)
        await client.close()


@pytest.fixture
async def moves(infra: InfraUrls, unique_name: str) -> AsyncIterator[Moves]:
    recorder = CommandRecorder()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        infra.mongodb_url, tz_aware=True, event_listeners=[recorder]
    )
    await init_beanie(
        database=client[unique_name],
        document_models=[OrderDocument, OutboxDocument, WriteBackDocument],
    )
    await migrated_database(infra, unique_name)
    query_side = QuerySide(service_database_url(infra, unique_name))
    await query_side.connect()

    async def discard(order_id: str, entry: Any) -> None:
        return None

    async def blinkit(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"order": {"status": "accepted"}})

    repository = OrderRepository()
    relay = OutboxRelay(repository, query_side, discard)
    channel = httpx.AsyncClient(
        transport=httpx.MockTransport(blinkit), base_url="http://channels.test"
    )
    service = OrderService(
        repository,
        query_side,
        on_written=relay.confirm,
        on_write_back=lambda change: write_backs.confirm(change),
    )
    write_backs = WriteBackRelay(repository, service, ChannelWriter(channel))
    try:
        yield Moves(service, relay, write_backs, recorder, query_side)
    finally:
        await channel.aclose()
        await query_side.close()
        await drop_database(infra, unique_name)
        await client.drop_database(unique_name)
        await client.close()


@dataclass
class Moves:
    service: OrderService
    relay: OutboxRelay
    write_backs: WriteBackRelay
    recorder: CommandRecorder
    query_side: QuerySide

    async def commands_to_move(self, order_id: str, status: OrderStatus) -> Counter[str]:
        """An admin's move and all it sets off (its event out, the channel told, the channel's
        answer recorded and announced), by collection and command."""
        self.recorder.commands.clear()
        self.recorder.recording = True
        try:
            await self.service.move_status(order_id, status, changed_by="u-1", note=None)
            assert await self.relay.publish_confirmed() == 1
            assert await self.write_backs.send_confirmed() == 1
            assert await self.relay.publish_confirmed() == 1
        finally:
            self.recorder.recording = False
        return Counter(f"{c['name']} {c[c['name']]}" for c in self.recorder.commands)


async def test_a_status_move_and_its_write_back_cost_nine_store_commands(moves: Moves) -> None:
    """Each relay holds its lease across rounds (renewed once a third of it has passed), and the
    write-back goes the fast way: the relay is handed the request and the order as the move
    wrote it, so it reads neither the write-back outbox nor the order, and records the
    channel's answer on that order."""
    await record(moves.service, channel_order("WB-COST", channel="blinkit"))
    while await moves.relay.publish_confirmed():
        pass
    order_id = order_id_for("blinkit", "WB-COST")

    first = await moves.commands_to_move(order_id, OrderStatus.CONFIRMED)
    second = await moves.commands_to_move(order_id, OrderStatus.SHIPPED)

    # The write-back relay takes its lease in its first round (the outbox relay took its own
    # when the order came in); after that both hold them: no command of the second move's.
    assert first - second == Counter({"findAndModify outbox_relay_lease": 1})
    assert second == Counter(
        {
            # The move: the order read, its events and its write-back request written first,
            # then the order; the answer: the order updated and its event written first.
            "find orders": 1,
            "insert order_outbox": 2,
            "insert channel_write_backs": 1,
            "update orders": 2,
            # The write-back relay: the request done.
            "delete channel_write_backs": 1,
            # The outbox relay: each event's entry removed once published.
            "delete order_outbox": 2,
        }
    )


async def test_a_status_move_compiles_no_statement_of_the_query_side_again(moves: Moves) -> None:
    """Each projection's statements are SQLAlchemy's compiled ones from the first move on: the
    day counts' upsert, a VALUES list of the changes' number, was built and compiled on every
    write (0.5 ms of CPU each)."""
    await record(moves.service, channel_order("WB-SQL", channel="blinkit"))
    while await moves.relay.publish_confirmed():
        pass
    order_id = order_id_for("blinkit", "WB-SQL")
    await moves.commands_to_move(order_id, OrderStatus.CONFIRMED)

    with compiled_statements(moves.query_side.engine.sync_engine) as ran:
        await moves.commands_to_move(order_id, OrderStatus.SHIPPED)
    assert ran
    assert [
        (how, statement.split(" (")[0]) for how, statement in ran if how != "CacheStats.CACHE_HIT"
    ] == []
