"""Real Kafka and Redis (logical db 3), an in-process mock_channels app as the channels.

Each test gets its own topic prefix and Redis key prefix, so tests never see each other's data.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from redis.asyncio import Redis

from devstack.pytest_plugin import InfraUrls
from ingest.events import IngestedPublisher
from ingest.main import build_poller
from ingest.poller import ChannelPoller
from ingest.repository import ChannelRepository
from ingest.settings import IngestSettings
from mock_channels.main import create_app as create_mock_channels
from mock_channels.settings import MockChannelsSettings
from orderhub_common.events import Channel
from orderhub_common.kafka import aiokafka_options, create_broker, ensure_topics, topics_from

INGEST_REDIS_DB = 3


def ingest_settings(infra: InfraUrls, name: str, **overrides: Any) -> IngestSettings:
    values: dict[str, Any] = {
        "ORDERHUB_ENV": "test",
        **infra.kafka_environment(),
        "KAFKA_TOPIC_PREFIX": f"{name}.",
        "KAFKA_PARTITIONS": 1,
        "REDIS_URL": infra.redis_db(INGEST_REDIS_DB),
        "INGEST_REDIS_PREFIX": f"ingest-{name}",
        "MOCK_CHANNELS_URL": "http://mock-channels",
        "POLL_INTERVAL_S": 0.2,
        "POLL_PAGE_SIZE": 4,
        "CHANNEL_RETRY_ATTEMPTS": 2,
        "CHANNEL_RETRY_INITIAL_S": 0.01,
        "CHANNEL_RETRY_MAX_S": 0.05,
        "INGEST_BREAKER_FAILURE_THRESHOLD": 2,
        "INGEST_BREAKER_RECOVERY_S": 0.5,
        "POLL_LEASE_TTL_S": 2,
        "SHUTDOWN_TIMEOUT_S": 5,
        "STARTUP_TIMEOUT_S": 20,
    }
    values.update(overrides)
    return IngestSettings.model_validate(values)


@pytest.fixture
def settings(infra: InfraUrls, unique_name: str) -> IngestSettings:
    return ingest_settings(infra, unique_name)


@pytest.fixture
def channels_app() -> FastAPI:
    return create_mock_channels(MockChannelsSettings(seed_orders=0, control_api=True))


@pytest.fixture
def channels(channels_app: FastAPI) -> httpx.AsyncClient:
    """The control API of the in-process channels."""
    transport = httpx.ASGITransport(app=channels_app)
    return httpx.AsyncClient(transport=transport, base_url="http://mock-channels")


async def create_orders(channels: httpx.AsyncClient, channel: Channel, count: int) -> list[str]:
    response = await channels.post(f"/_control/{channel}/orders", json={"count": count})
    response.raise_for_status()
    created: list[str] = response.json()["created"]
    return created


@pytest.fixture
async def redis(settings: IngestSettings, infra: InfraUrls) -> AsyncIterator[Redis]:
    client = Redis.from_url(settings.redis_url.get_secret_value(), decode_responses=True)
    yield client
    await client.aclose()
    # The services' user may not SCAN: the clean-up user does.
    admin = Redis.from_url(infra.redis_admin_db(INGEST_REDIS_DB), decode_responses=True)
    keys = [key async for key in admin.scan_iter(f"{settings.redis_key_prefix}:*")]
    if keys:
        await admin.delete(*keys)
    await admin.aclose()


@pytest.fixture
async def broker(settings: IngestSettings) -> AsyncIterator[KafkaBroker]:
    await ensure_topics(settings)
    kafka = create_broker(settings, client_id="ingest-test")
    yield kafka
    await kafka.stop()


@dataclass
class PollerKit:
    """Builds pollers the way the app does, against the in-process channels."""

    settings: IngestSettings
    repository: ChannelRepository
    publisher: IngestedPublisher
    transport: httpx.AsyncBaseTransport

    def poller(self, channel: Channel, owner: str = "replica-a") -> ChannelPoller:
        return build_poller(
            channel, self.settings, self.repository, self.publisher, owner, self.transport
        )


@pytest.fixture
async def kit(
    settings: IngestSettings, redis: Redis, broker: KafkaBroker, channels_app: FastAPI
) -> PollerKit:
    publisher = IngestedPublisher(broker, topics_from(settings))
    await broker.start()
    return PollerKit(
        settings,
        ChannelRepository(redis, settings.redis_key_prefix),
        publisher,
        httpx.ASGITransport(app=channels_app),
    )


async def read_topic(settings: IngestSettings, topic: str) -> list[ConsumerRecord[bytes, bytes]]:
    """Everything in ``topic`` right now (tests create topics with one partition)."""
    consumer = AIOKafkaConsumer(enable_auto_commit=False, **aiokafka_options(settings))
    await consumer.start()
    try:
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        await consumer.seek_to_beginning(partition)
        end = (await consumer.end_offsets([partition]))[partition]
        records: list[ConsumerRecord[bytes, bytes]] = []
        while await consumer.position(partition) < end:
            batch = await consumer.getmany(partition, timeout_ms=1000)
            records.extend(batch.get(partition, []))
        return records
    finally:
        await consumer.stop()
