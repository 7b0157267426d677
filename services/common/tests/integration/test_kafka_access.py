"""Kafka refuses a client without credentials on every listener, and holds each service's user to
its ACLs (``orderhub_common.kafka_access``) while it does all its service needs. Against the
local stack's broker (its service users are the stack's)."""

from __future__ import annotations

import asyncio
import struct
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    TopicAuthorizationFailedError,
)

from devstack.pytest_plugin import InfraUrls
from devstack.stack import Stack
from orderhub_common.kafka import Topics, aiokafka_options
from orderhub_common.kafka_access import ACCESS, ServiceAccess, provision
from orderhub_common.settings import KafkaSettings

pytestmark = pytest.mark.integration

STACK_TOPICS = Topics()
CREATE_TOPICS = 19


@pytest.fixture
def users(infra: InfraUrls) -> dict[str, tuple[str, str]]:
    if not infra.kafka_service_users:
        pytest.skip("this broker has no service users of the stack's (not the local stack)")
    return infra.kafka_service_users


def _signed_in_as(infra: InfraUrls, user: tuple[str, str], prefix: str = "") -> KafkaSettings:
    return KafkaSettings(
        kafka_bootstrap_servers=infra.kafka_bootstrap,
        kafka_sasl_mechanism="PLAIN",
        kafka_sasl_username=user[0],
        kafka_sasl_password=user[1],
        kafka_topic_prefix=prefix,
    )


def _admin_settings(infra: InfraUrls, prefix: str = "") -> KafkaSettings:
    return KafkaSettings(**infra.kafka_settings(), kafka_topic_prefix=prefix)


def _create_topics_request(topic: str) -> bytes:
    """CreateTopics v2 for one topic (1 partition, replication 1), header v1, as on the wire."""
    client_id, name = b"probe", topic.encode()
    header = struct.pack(">hhih", CREATE_TOPICS, 2, 1, len(client_id)) + client_id
    body = (
        struct.pack(">ih", 1, len(name))
        + name
        # partitions, replication factor, no assignments, no configs; timeout, not validate-only
        + struct.pack(">ihiiib", 1, 1, 0, 0, 5000, 0)
    )
    return struct.pack(">i", len(header) + len(body)) + header + body


async def _create_topics_without_credentials(port: int, topic: str) -> int | None:
    """A CreateTopics request as the first thing said on a new connection: the error code of
    the answer, or None when the broker closes the connection instead of answering."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(_create_topics_request(topic))
        await writer.drain()
        (size,) = struct.unpack(">i", await asyncio.wait_for(reader.readexactly(4), 10))
        answer = await asyncio.wait_for(reader.readexactly(size), 10)
    except (asyncio.IncompleteReadError, ConnectionResetError):
        return None
    finally:
        writer.close()
    # correlation id, throttle time, topic count; then the first topic's name and error code
    (name_length,) = struct.unpack_from(">h", answer, 12)
    (code,) = struct.unpack_from(">h", answer, 14 + name_length)
    return int(code)


async def _topic_names(settings: KafkaSettings) -> list[str]:
    admin = AIOKafkaAdminClient(request_timeout_ms=5000, **aiokafka_options(settings))
    await admin.start()
    try:
        return await admin.list_topics()
    finally:
        await admin.close()


async def _produce(settings: KafkaSettings, topic: str) -> None:
    # Idempotent, as create_broker's producer is.
    producer = AIOKafkaProducer(
        acks="all", enable_idempotence=True, request_timeout_ms=10_000, **aiokafka_options(settings)
    )
    try:
        await producer.start()
        await producer.send_and_wait(topic, b"probe", key=b"probe")
    finally:
        await producer.stop()


async def _join_and_commit(settings: KafkaSettings, topic: str, group_id: str) -> None:
    """Joins ``group_id`` reading ``topic``, reads and commits, as a service's consumer does;
    raises what the broker refuses."""
    consumer = AIOKafkaConsumer(
        topic,
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        request_timeout_ms=10_000,
        **aiokafka_options(settings),
    )
    try:
        await consumer.start()
        async with asyncio.timeout(30):
            while not consumer.assignment():
                await consumer.getmany(timeout_ms=200)
            await consumer.getmany(timeout_ms=200)
            await consumer.commit()
    finally:
        await consumer.stop()


@pytest.mark.parametrize("listener", ["kafka", "kafka_controller"])
async def test_a_create_topics_without_credentials_is_refused_on_every_listener(
    infra: InfraUrls,
    users: dict[str, tuple[str, str]],
    test_stack: Stack,
    unique_name: str,
    listener: str,
) -> None:
    code = await _create_topics_without_credentials(test_stack.port(listener), unique_name)

    assert code != 0, "created a topic for a client that never signed in"
    assert unique_name not in await _topic_names(_admin_settings(infra))


async def test_a_client_without_credentials_cannot_reach_the_brokers_topics(
    infra: InfraUrls, users: dict[str, tuple[str, str]]
) -> None:
    with pytest.raises(KafkaConnectionError):
        await _topic_names(KafkaSettings(kafka_bootstrap_servers=infra.kafka_bootstrap))


async def test_no_service_user_may_create_delete_or_reconfigure_a_topic_or_the_broker(
    infra: InfraUrls, users: dict[str, tuple[str, str]], unique_name: str
) -> None:
    refused: dict[str, list[int]] = {}
    for name, user in users.items():
        admin = AIOKafkaAdminClient(
            request_timeout_ms=5000, **aiokafka_options(_signed_in_as(infra, user))
        )
        await admin.start()
        try:
            created = await admin.create_topics([NewTopic(unique_name, 1, 1)])
            deleted = await admin.delete_topics([STACK_TOPICS.audit])
            # The values they have: had the broker taken them, nothing would change.
            reconfigured = await admin.alter_configs(
                [
                    ConfigResource(
                        ConfigResourceType.TOPIC, STACK_TOPICS.audit, {"retention.ms": "604800000"}
                    ),
                    ConfigResource(
                        ConfigResourceType.BROKER, "1", {"log.cleaner.backoff.ms": "15000"}
                    ),
                ]
            )
        finally:
            await admin.close()
        refused[name] = [
            created.topic_errors[0][1],
            deleted.topic_error_codes[0][1],
            *(resource[0] for response in reconfigured for resource in response.resources),
        ]

    assert {name: [code == 0 for code in codes] for name, codes in refused.items()} == {
        name: [False] * 4 for name in users
    }
    topics = await _topic_names(_admin_settings(infra))
    assert STACK_TOPICS.audit in topics
    assert unique_name not in topics


async def test_a_service_user_may_not_write_a_topic_its_service_does_not_produce_to(
    infra: InfraUrls, users: dict[str, tuple[str, str]]
) -> None:
    with pytest.raises(TopicAuthorizationFailedError):
        await _produce(_signed_in_as(infra, users["gateway"]), STACK_TOPICS.ingested)
    with pytest.raises(TopicAuthorizationFailedError):
        await _produce(_signed_in_as(infra, users["auth"]), STACK_TOPICS.order_events)


async def test_a_service_user_may_not_read_a_topic_its_service_does_not_consume(
    infra: InfraUrls, users: dict[str, tuple[str, str]], unique_name: str
) -> None:
    with pytest.raises(TopicAuthorizationFailedError):
        await _join_and_commit(
            _signed_in_as(infra, users["ingest"]), STACK_TOPICS.order_events, "ingest"
        )
    with pytest.raises(TopicAuthorizationFailedError):
        await _join_and_commit(
            _signed_in_as(infra, users["gateway"]), STACK_TOPICS.audit, f"gateway-{unique_name}"
        )


async def test_a_service_user_may_not_join_another_services_group(
    infra: InfraUrls, users: dict[str, tuple[str, str]]
) -> None:
    # The gateway may read orders.events.v1, but only in groups of its own.
    with pytest.raises(GroupAuthorizationFailedError):
        await _join_and_commit(
            _signed_in_as(infra, users["gateway"]), STACK_TOPICS.order_events, "orders"
        )


async def _does_what_its_service_does(
    infra: InfraUrls, access: ServiceAccess, user: tuple[str, str], prefix: str
) -> None:
    settings = _signed_in_as(infra, user, prefix)
    topics = Topics(prefix)
    for name in access.produces:
        await _produce(settings, getattr(topics, name))
    group_ids = [*access.groups, *(f"{group}{prefix}" for group in access.group_prefixes)]
    for index, name in enumerate(access.consumes):
        await _join_and_commit(settings, getattr(topics, name), group_ids[0])
        if index == 0:
            for group_id in group_ids[1:]:
                await _join_and_commit(settings, getattr(topics, name), group_id)


async def test_each_service_user_may_produce_consume_and_join_what_its_service_needs(
    infra: InfraUrls, users: dict[str, tuple[str, str]], unique_name: str
) -> None:
    # The stack's ACLs for a topic prefix of this test's own (the same step as at stack start).
    prefix = f"{unique_name}."
    await provision(_admin_settings(infra, prefix))

    outcomes: list[Any] = await asyncio.gather(
        *(_does_what_its_service_does(infra, a, users[a.user], prefix) for a in ACCESS),
        return_exceptions=True,
    )

    assert {a.user: outcome for a, outcome in zip(ACCESS, outcomes, strict=True)} == {
        a.user: None for a in ACCESS
    }
