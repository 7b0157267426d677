"""Real Kafka, MongoDB-compatible store and PostgreSQL, isolated per test by a unique topic
prefix, MongoDB database and PostgreSQL database. Kafka topics get one partition here so
"everything before this sentinel event has been consumed" is a sound way to wait."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from pymongo import AsyncMongoClient
from sqlalchemy import event, select
from sqlalchemy.engine import Engine, make_url
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_fixed

from devstack.pytest_plugin import InfraUrls, eventually
from orderhub_common.events import ChannelOrder, OrderIngested
from orderhub_common.kafka import Lane, Topics, aiokafka_options
from orderhub_common.resources import MongoResource
from orderhub_common.security import JwtVerifier
from orderhub_common.settings import KafkaSettings
from orderhub_common.testing import FakeTokenIssuer, channel_order
from orders.documents import OrderDocument, OutboxDocument, WriteBackDocument
from orders.main import create_app
from orders.query_side import QuerySide, ServedOrder, order_day_counts, order_rows
from orders.repository import OrderRepository
from orders.schema import migrate
from orders.service import ChannelOutcome, OrderService
from orders.settings import OrdersSettings

TOKENS = FakeTokenIssuer()
T0 = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)


def database_url(infra: InfraUrls, name: str) -> str:
    """The test PostgreSQL server's URL for the database ``name``, as the role that creates it,
    owns it and migrates it."""
    return make_url(infra.postgres_url).set(database=name).render_as_string(hide_password=False)


def service_database_url(infra: InfraUrls, name: str) -> str:
    """The same database as the role the service works as (the owner's when there is none)."""
    url = infra.postgres_service_url or infra.postgres_url
    return make_url(url).set(database=name).render_as_string(hide_password=False)


async def _on_postgres_server(infra: InfraUrls, statement: str) -> None:
    connection = await asyncpg.connect(infra.postgres_url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def analyze_orders(infra: InfraUrls, name: str) -> None:
    """The planner's statistics of ``order_rows`` taken now, as autovacuum would in time (only
    the table's owner may ``ANALYZE`` it)."""
    owner = await asyncpg.connect(database_url(infra, name))
    try:
        await owner.execute("ANALYZE order_rows")
    finally:
        await owner.close()


async def create_database(infra: InfraUrls, name: str) -> None:
    await _on_postgres_server(infra, f'CREATE DATABASE "{name}"')


async def migrated_database(infra: InfraUrls, name: str) -> None:
    """Creates the database ``name`` and migrates it as ``orders-migrate`` does: as its owner,
    granting the service's role (``service_database_url``)."""
    await create_database(infra, name)
    service_role = make_url(service_database_url(infra, name)).username
    await migrate(database_url(infra, name), service_role)


async def drop_database(infra: InfraUrls, name: str) -> None:
    # FORCE ends the test's own connections, but this role may not end an autovacuum worker
    # that has just started on the database; it is done within moments.
    async for attempt in AsyncRetrying(
        retry=retry_if_exception_type(asyncpg.InsufficientPrivilegeError),
        wait=wait_fixed(0.2),
        stop=stop_after_attempt(25),
        reraise=True,
    ):
        with attempt:
            await _on_postgres_server(infra, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def compiled_statements(engine: Engine) -> Iterator[list[tuple[str, str]]]:
    """Each statement run on ``engine`` meanwhile, with how SQLAlchemy's compiled cache served
    it (``CacheStats.CACHE_HIT``, ``CACHE_MISS`` or ``NO_CACHE_KEY``)."""
    ran: list[tuple[str, str]] = []

    def executed(*args: Any) -> None:
        statement, context = args[2], args[4]
        ran.append((str(context.cache_hit), statement))

    event.listen(engine, "after_cursor_execute", executed)
    try:
        yield ran
    finally:
        event.remove(engine, "after_cursor_execute", executed)


@pytest.fixture
async def query_side(infra: InfraUrls, unique_name: str) -> AsyncIterator[QuerySide]:
    """A migrated query side in a database of the test's own, working as the service's role."""
    await migrated_database(infra, unique_name)
    query_side = QuerySide(service_database_url(infra, unique_name))
    await query_side.connect()
    try:
        yield query_side
    finally:
        await query_side.close()
        await drop_database(infra, unique_name)


@pytest.fixture
async def repository(infra: InfraUrls, unique_name: str) -> AsyncIterator[OrderRepository]:
    """The orders store's repository, on a MongoDB database of the test's own."""
    mongo = MongoResource(
        infra.mongodb_url, unique_name, [OrderDocument, OutboxDocument, WriteBackDocument]
    )
    await mongo.connect()
    try:
        yield OrderRepository()
    finally:
        await mongo.client.drop_database(unique_name)
        await mongo.close()


@pytest.fixture
def service(repository: OrderRepository, query_side: QuerySide) -> OrderService:
    return OrderService(repository, query_side)


ORDERS_REDIS_DB = 5


def orders_settings(infra: InfraUrls, name: str) -> OrdersSettings:
    return OrdersSettings.model_validate(
        {
            "ORDERHUB_ENV": "test",
            **infra.kafka_environment(),
            "KAFKA_TOPIC_PREFIX": f"{name}.",
            "KAFKA_PARTITIONS": 1,
            "MONGODB_URL": infra.mongodb_url,
            "REDIS_URL": infra.redis_db(ORDERS_REDIS_DB),
            "ORDERS_MONGODB_DATABASE": name,
            "ORDERS_POSTGRES_URL": service_database_url(infra, name),
            "ORDERS_OUTBOX_SWEEP_INTERVAL_S": 0.2,
            # No channel answers here (port 9, discard), so a status move's write-back waits and
            # retries; the default would reach the developer's running stack on 8004.
            "MOCK_CHANNELS_URL": "http://127.0.0.1:9",
            "SHUTDOWN_TIMEOUT_S": 5,
        }
    )


def bearer(
    role: str = "admin", user_id: str = "user-admin-1", email: str | None = None
) -> dict[str, str]:
    return TOKENS.bearer(role, user_id, email=email)


async def record(service: OrderService, *orders: ChannelOrder) -> list[ChannelOutcome]:
    """Feeds channel copies to the service as the consumer does (one batch)."""
    return await service.record_ingested([OrderIngested(order=order) for order in orders])


class Pipeline:
    """A running orders service plus the means to feed it and read what it produced."""

    def __init__(self, app: FastAPI, settings: OrdersSettings, producer: AIOKafkaProducer):
        self.app = app
        self.settings = settings
        self.topics = Topics(settings.kafka_topic_prefix)
        self.producer = producer
        self.mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            settings.mongodb_url.get_secret_value(), tz_aware=True
        )
        self.orders = self.mongo[settings.mongodb_database]["orders"]
        self.outbox = self.mongo[settings.mongodb_database]["order_outbox"]
        self.query_side = QuerySide(settings.postgres_url.get_secret_value())
        self._sentinels = 0

    async def projection(self) -> dict[str, Any]:
        """The whole query side, sentinels left out: every row and the running counts."""
        async with self.query_side.engine.connect() as connection:
            rows = await connection.execute(
                select(order_rows).where(~order_rows.c.external_id.startswith("SENTINEL-"))
            )
            counts = await connection.execute(
                select(order_day_counts).where(
                    order_day_counts.c.currency != "XTS", order_day_counts.c.orders != 0
                )
            )
            return {
                "rows": {row.id: row._asdict() for row in rows},
                "counts": sorted(tuple(row) for row in counts),
            }

    async def send(self, order: ChannelOrder, *, lane: Lane = Lane.LIVE) -> None:
        await self.send_raw(
            OrderIngested(order=order).model_dump_json().encode(),
            key=f"{order.channel}:{order.external_id}".encode(),
            lane=lane,
        )

    async def send_raw(
        self,
        value: bytes,
        *,
        key: bytes,
        headers: list[tuple[str, bytes]] | None = None,
        lane: Lane = Lane.LIVE,
    ) -> None:
        await self.producer.send_and_wait(
            self.topics.of_lane(lane), value, key=key, headers=headers or []
        )

    async def settle(self) -> None:
        """Returns once everything sent so far, on either lane, is consumed and its events are
        published."""
        self._sentinels += 1
        sentinels = {lane: f"SENTINEL-{self._sentinels}-{lane.value}" for lane in Lane}
        for lane, external_id in sentinels.items():
            # XTS, the ISO code reserved for tests, keeps sentinels in running counts of their own.
            sentinel = channel_order(
                external_id, placed_at=T0 - timedelta(days=365), currency="XTS"
            )
            await self.send(sentinel, lane=lane)

        async def published() -> bool:
            events = await self.read(self.topics.order_events)
            return all(
                any(e.value is not None and external_id.encode() in e.value for e in events)
                for external_id in sentinels.values()
            ) and not await self.outbox.count_documents({})

        await eventually(published, what=f"{', '.join(sentinels.values())} to go through")

    async def read(self, topic: str) -> list[ConsumerRecord[Any, Any]]:
        """Every record of ``topic`` so far, from the beginning, in partition order."""
        # Without a group the consumer is assigned every partition of the topic.
        consumer = AIOKafkaConsumer(
            topic,
            enable_auto_commit=False,
            **aiokafka_options(self.settings),
            auto_offset_reset="earliest",
        )
        await consumer.start()
        try:
            await eventually(
                lambda: _true(bool(consumer.assignment())), what=f"partitions of {topic}"
            )
            partitions = sorted(consumer.assignment())
            await consumer.seek_to_beginning(*partitions)
            end = await consumer.end_offsets(partitions)
            records: list[ConsumerRecord[Any, Any]] = []
            while any([await consumer.position(tp) < end[tp] for tp in partitions]):
                batch = await consumer.getmany(timeout_ms=500)
                for partition_records in batch.values():
                    records.extend(partition_records)
            return records
        finally:
            await consumer.stop()


async def _true(value: bool) -> bool:
    return value


@pytest.fixture
async def producer(infra: InfraUrls) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(**aiokafka_options(KafkaSettings(**infra.kafka_settings())))
    await producer.start()
    yield producer
    await producer.stop()


async def running_pipeline(
    infra: InfraUrls, name: str, producer: AIOKafkaProducer, **overrides: Any
) -> AsyncIterator[Pipeline]:
    """A running orders service; ``overrides`` replace settings (by field name)."""
    settings = orders_settings(infra, name).model_copy(update=overrides)
    await migrated_database(infra, name)
    app = create_app(settings)
    app.state.jwt_verifier = JwtVerifier(settings, jwks_source=TOKENS.jwks)
    try:
        async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30):
            pipeline = Pipeline(app, settings, producer)
            try:
                yield pipeline
            finally:
                await pipeline.mongo.drop_database(name)
                await pipeline.mongo.close()
                await pipeline.query_side.close()
    finally:
        await drop_database(infra, name)


@pytest.fixture
async def pipeline(
    infra: InfraUrls, unique_name: str, producer: AIOKafkaProducer
) -> AsyncIterator[Pipeline]:
    async for running in running_pipeline(infra, unique_name, producer):
        yield running


class QuerySideAway:
    """The query side, away (every call refused) until ``back``."""

    def __init__(self, query_side: QuerySide) -> None:
        self.query_side = query_side
        self.back = False

    async def project(self, orders: Any) -> int:
        self._refused_while_away()
        return await self.query_side.project(orders)

    async def order_document(self, order_id: str) -> ServedOrder | None:
        self._refused_while_away()
        return await self.query_side.order_document(order_id)

    def _refused_while_away(self) -> None:
        if not self.back:
            raise ConnectionRefusedError("the query side is away")
