"""The shared library against the real broker, store and cache."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from beanie import Document
from faststream import AckPolicy
from pymongo import ASCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from devstack.pytest_plugin import InfraUrls, eventually
from devstack.stack import Stack
from orderhub_common.app import create_service_app
from orderhub_common.kafka import create_broker, ensure_topics
from orderhub_common.resources import KafkaResource, MongoResource, RedisResource
from orderhub_common.settings import KafkaSettings, ServiceSettings

pytestmark = pytest.mark.integration


class Sku(Document):
    code: str
    name: str

    class Settings:
        name = "skus"
        indexes = [
            IndexModel([("code", ASCENDING)], unique=True, name="code_unique"),
            IndexModel([("name", ASCENDING)], name="name"),
        ]


async def test_a_produced_message_is_consumed_by_a_faststream_subscriber(
    infra: InfraUrls, unique_name: str
) -> None:
    settings = KafkaSettings(**infra.kafka_settings(), kafka_topic_prefix=f"{unique_name}.")
    topic = f"{unique_name}.probe"
    received: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    broker = create_broker(settings, client_id="probe")

    @broker.subscriber(
        topic, group_id=unique_name, auto_offset_reset="earliest", ack_policy=AckPolicy.ACK
    )
    async def collect(body: dict[str, str]) -> None:
        await received.put(body)

    await ensure_topics(settings)
    await broker.start()
    try:
        await broker.publish({"hello": "kafka"}, topic, key=b"k")
        assert await asyncio.wait_for(received.get(), 30) == {"hello": "kafka"}
    finally:
        await broker.stop()


async def test_a_beanie_document_round_trips_with_its_unique_index_enforced(
    infra: InfraUrls, unique_name: str
) -> None:
    mongo = MongoResource(infra.mongodb_url, unique_name, [Sku])
    await mongo.connect()
    try:
        await Sku(code="RING-001", name="Solitaire ring").insert()
        stored = await Sku.find_one(Sku.code == "RING-001")
        assert stored is not None
        assert stored.name == "Solitaire ring"
        with pytest.raises(DuplicateKeyError):
            await Sku(code="RING-001", name="Another ring").insert()
        assert await Sku.find(Sku.code == "RING-001").count() == 1

        # A restarted service initialises again over the existing indexes.
        await mongo.connect()
        assert {"code_unique", "name"} <= set(
            await Sku.get_pymongo_collection().index_information()
        )
    finally:
        await mongo.client.drop_database(unique_name)
        await mongo.close()


async def test_the_postgres_role_creates_a_database_of_its_own_with_pg_trgm(
    infra: InfraUrls, unique_name: str
) -> None:
    server = await asyncpg.connect(infra.postgres_url)
    try:
        assert await server.fetchval("SELECT 1") == 1
        await server.execute(f'CREATE DATABASE "{unique_name}"')
        try:
            own = await asyncpg.connect(infra.postgres_url, database=unique_name)
            try:
                await own.execute("CREATE EXTENSION pg_trgm")
                await own.execute("CREATE TABLE names (name text)")
                await own.execute("CREATE INDEX names_trgm ON names USING gin (name gin_trgm_ops)")
                await own.execute("INSERT INTO names VALUES ('Solitaire ring'), ('Anklet')")
                assert (
                    await own.fetchval(
                        "SELECT name FROM names WHERE name ILIKE '%' || $1 || '%'", "TAIRE"
                    )
                    == "Solitaire ring"
                )
            finally:
                await own.close()
        finally:
            await server.execute(f'DROP DATABASE "{unique_name}"')
    finally:
        await server.close()


async def _readiness(client: httpx.AsyncClient) -> httpx.Response:
    return await client.get("/readyz")


async def _readiness_becomes(
    client: httpx.AsyncClient, status: int, timeout_s: float = 60
) -> dict[str, Any]:
    """Waits until ``/readyz`` answers ``status``; returns that answer's body."""
    answers: list[httpx.Response] = []

    async def answers_status() -> bool:
        answers.append(await _readiness(client))
        return answers[-1].status_code == status

    await eventually(
        answers_status, timeout_s=timeout_s, interval_s=0.3, what=f"/readyz to answer {status}"
    )
    body: dict[str, Any] = answers[-1].json()
    return body


@pytest.mark.parametrize("dependency", ["redis", "mongodb", "kafka"])
async def test_readyz_names_a_stopped_dependency_and_recovers_without_a_restart(
    test_stack: Stack, dependency: str, unique_name: str
) -> None:
    test_stack.ensure_infra_running()
    settings = KafkaSettings(**test_stack.kafka_settings())
    resources = [
        RedisResource(test_stack.redis_url, timeout_s=1),
        MongoResource(test_stack.mongodb_url, unique_name, [], timeout_s=1),
        KafkaResource(create_broker(settings, client_id="readiness-probe"), timeout_s=2),
    ]
    app = create_service_app(
        settings=ServiceSettings(environment="test"), title="probe", resources=resources
    )
    async with (
        LifespanManager(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://probe"
        ) as client,
    ):
        assert (await _readiness(client)).status_code == 200
        await asyncio.to_thread(test_stack.stop, dependency)
        try:
            body = await _readiness_becomes(client, 503)
            assert body["failing"] == [dependency]
            assert dependency in body["error"]["message"]
            assert (await client.get("/healthz")).status_code == 200
        finally:
            await asyncio.to_thread(test_stack.start, dependency)
        await _readiness_becomes(client, 200, timeout_s=90)
