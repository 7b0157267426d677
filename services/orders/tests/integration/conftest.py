"""Real Kafka and MongoDB-compatible store, isolated per test by a unique topic prefix and
database. Kafka topics get one partition here so "everything before this sentinel event has
been consumed" is a sound way to wait."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from joserfc import jwt
from joserfc.jwk import OKPKey
from pymongo import AsyncMongoClient

from devstack.pytest_plugin import InfraUrls, eventually
from orderhub_common.events import ChannelOrder, Customer, OrderIngested, OrderItem, OrderStatus
from orderhub_common.kafka import Topics
from orderhub_common.security import JwtVerifier
from orders.main import create_app
from orders.settings import OrdersSettings

SIGNING_KEY = OKPKey.generate_key("Ed25519", parameters={"kid": "test-key", "use": "sig"})
T0 = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)


def orders_settings(infra: InfraUrls, name: str) -> OrdersSettings:
    return OrdersSettings.model_validate(
        {
            "ORDERHUB_ENV": "test",
            "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap,
            "KAFKA_TOPIC_PREFIX": f"{name}.",
            "KAFKA_PARTITIONS": 1,
            "MONGODB_URL": infra.mongodb_url,
            "ORDERS_MONGODB_DATABASE": name,
            "ORDERS_OUTBOX_SWEEP_INTERVAL_S": 0.2,
            "SHUTDOWN_TIMEOUT_S": 5,
        }
    )


async def _published_keys() -> Mapping[str, Any]:
    return {"keys": [SIGNING_KEY.as_dict(private=False)]}


def bearer(role: str = "admin", user_id: str = "user-admin-1") -> dict[str, str]:
    now = int(time.time())
    claims = {
        "sub": user_id,
        "role": role,
        "iss": "orderhub-auth",
        "aud": "orderhub",
        "iat": now,
        "exp": now + 600,
        "jti": f"jti-{user_id}-{now}",
    }
    token = jwt.encode(
        {"alg": "Ed25519", "kid": SIGNING_KEY.kid}, claims, SIGNING_KEY, algorithms=["Ed25519"]
    )
    return {"Authorization": f"Bearer {token}"}


def channel_order(
    external_id: str,
    *,
    channel: str = "website",
    status: OrderStatus = OrderStatus.PLACED,
    updated_at: datetime = T0,
    placed_at: datetime = T0,
    name: str = "Priya Sharma",
    phone: str = "+91 98765 43210",
    email: str | None = "priya@example.com",
    total: float = 1500.0,
    currency: str = "INR",
) -> ChannelOrder:
    return ChannelOrder(
        channel=channel,
        external_id=external_id,
        customer=Customer(name=name, phone=phone, email=email),
        items=[OrderItem(sku="RING-18K-01", name="Gold ring", qty=1, price=total)],
        total=total,
        currency=currency,
        status=status,
        placed_at=placed_at,
        updated_at=updated_at,
    )


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
        self._sentinels = 0

    async def send(self, order: ChannelOrder) -> None:
        await self.send_raw(
            OrderIngested(order=order).model_dump_json().encode(),
            key=f"{order.channel}:{order.external_id}".encode(),
        )

    async def send_raw(
        self, value: bytes, *, key: bytes, headers: list[tuple[str, bytes]] | None = None
    ) -> None:
        await self.producer.send_and_wait(
            self.topics.ingested, value, key=key, headers=headers or []
        )

    async def settle(self) -> None:
        """Returns once everything sent so far is consumed and its events are published."""
        self._sentinels += 1
        external_id = f"SENTINEL-{self._sentinels}"
        await self.send(channel_order(external_id, placed_at=T0 - timedelta(days=365)))

        async def published() -> bool:
            events = await self.read(self.topics.order_events)
            return any(
                e.value is not None and external_id.encode() in e.value for e in events
            ) and not await self.outbox.count_documents({})

        await eventually(published, what=f"{external_id} to go through")

    async def read(self, topic: str) -> list[ConsumerRecord[Any, Any]]:
        """Every record of ``topic`` so far, from the beginning, in partition order."""
        # Without a group the consumer is assigned every partition of the topic.
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=self.settings.kafka_bootstrap_servers,
            enable_auto_commit=False,
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
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap)
    await producer.start()
    yield producer
    await producer.stop()


async def running_pipeline(
    infra: InfraUrls, name: str, producer: AIOKafkaProducer
) -> AsyncIterator[Pipeline]:
    settings = orders_settings(infra, name)
    app = create_app(settings)
    app.state.jwt_verifier = JwtVerifier(settings, jwks_source=_published_keys)
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30):
        pipeline = Pipeline(app, settings, producer)
        try:
            yield pipeline
        finally:
            await pipeline.mongo.drop_database(name)
            await pipeline.mongo.close()


@pytest.fixture
async def pipeline(
    infra: InfraUrls, unique_name: str, producer: AIOKafkaProducer
) -> AsyncIterator[Pipeline]:
    async for running in running_pipeline(infra, unique_name, producer):
        yield running
