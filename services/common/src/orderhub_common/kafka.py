"""Kafka plumbing: topic names and specs, the broker factory, correlation-id propagation, the
raw decoder of batch subscribers."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream import BaseMiddleware, StreamMessage
from faststream.kafka import KafkaBroker
from faststream.kafka.security import parse_security
from loguru import logger

from orderhub_common.context import CORRELATION_ID_HEADER, correlation_id_var, new_id
from orderhub_common.settings import KafkaSettings


class Lane(StrEnum):
    """The two lanes of ingested orders: ingest picks one per event, orders consumes the live
    one first (``Topics.of_lane``)."""

    LIVE = "live"
    HISTORY = "history"


@dataclass(frozen=True)
class Topics:
    """Topic names of CONTRACT.md section 5. A prefix lets tests share one broker safely."""

    prefix: str = ""

    @property
    def ingested(self) -> str:
        return f"{self.prefix}orders.ingested.v1"

    @property
    def ingested_history(self) -> str:
        """The history lane: channel changes older than ingest's live window (a backfill), which
        orders consumes only while the live lane (``ingested``) has nothing waiting."""
        return f"{self.prefix}orders.ingested.history.v1"

    def of_lane(self, lane: Lane) -> str:
        return self.ingested if lane == Lane.LIVE else self.ingested_history

    @property
    def ingested_dlq(self) -> str:
        return f"{self.prefix}orders.ingested.v1.dlq"

    @property
    def order_events(self) -> str:
        return f"{self.prefix}orders.events.v1"

    @property
    def audit(self) -> str:
        return f"{self.prefix}audit.v1"

    @property
    def audit_dlq(self) -> str:
        return f"{self.prefix}audit.v1.dlq"

    def specs(
        self, *, partitions: int, replication_factor: int, min_insync_replicas: int
    ) -> list[NewTopic]:
        """The contract's topics as a service creates them, laid out as the settings say
        (``topic_specs``): the same numbers production's KafkaTopic resources carry."""
        week_ms = str(7 * 24 * 3600 * 1000)

        def topic(name: str, partitions: int, retention_ms: str) -> NewTopic:
            configs = {
                "retention.ms": retention_ms,
                "min.insync.replicas": str(min_insync_replicas),
            }
            return NewTopic(name, partitions, replication_factor, topic_configs=configs)

        return [
            topic(self.ingested, partitions, week_ms),
            topic(self.ingested_history, partitions, week_ms),
            topic(self.order_events, partitions, week_ms),
            # Dead letters wait for a person; keep them much longer.
            topic(self.ingested_dlq, 1, "-1"),
            # The audit log is kept by its keeper's store; the topic only carries it there.
            topic(self.audit, 1, week_ms),
            # Apart from the ingest dead letters: replaying those into orders.ingested.v1 would
            # be wrong for an audit record.
            topic(self.audit_dlq, 1, "-1"),
        ]


async def raw_bodies(message: StreamMessage[Any]) -> list[bytes]:
    """The decoder of a batch subscriber whose handler decodes each record itself (and decides
    what to do with one that does not decode). A coroutine: FastStream runs a plain function
    decoder in a worker thread, a handoff there and back for every batch."""
    return list(message.body)


def topics_from(settings: KafkaSettings) -> Topics:
    return Topics(settings.kafka_topic_prefix)


def topic_specs(settings: KafkaSettings) -> list[NewTopic]:
    return topics_from(settings).specs(
        partitions=settings.kafka_partitions,
        replication_factor=settings.kafka_topic_replication_factor,
        min_insync_replicas=settings.kafka_topic_min_insync_replicas,
    )


def aiokafka_options(settings: KafkaSettings) -> dict[str, Any]:
    """The brokers and credentials of ``settings`` as keyword arguments of any aiokafka client
    (producer, consumer, admin), for the code that talks to Kafka below FastStream."""
    security = settings.kafka_security()
    return {
        "bootstrap_servers": settings.kafka_bootstrap_servers,
        **(parse_security(security) if security else {}),
    }


# CreateTopics answers: the topic exists already; this user may not create it (a service's own
# user, which sees only its own topics: the broker's user creates them all at start, see
# orderhub_common.kafka_access).
_TOPIC_ALREADY_EXISTS = 36
_TOPIC_AUTHORIZATION_FAILED = 29


async def ensure_topics(settings: KafkaSettings) -> None:
    """Creates the contract's topics if missing; safe to run from every replica at start."""
    admin = AIOKafkaAdminClient(request_timeout_ms=5000, **aiokafka_options(settings))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topic_specs(settings) if t.name not in existing]
        if missing:
            # Another replica may win the race; its topics are as good as ours.
            with contextlib.suppress(TopicAlreadyExistsError):
                response = await admin.create_topics(missing)
                created = [name for name, code, *_ in response.topic_errors if code == 0]
                failed = [
                    f"{name}: {code} {rest[0] if rest else ''}"
                    for name, code, *rest in response.topic_errors
                    if code not in {0, _TOPIC_ALREADY_EXISTS, _TOPIC_AUTHORIZATION_FAILED}
                ]
                if created:
                    logger.info(f"created topics {created}")
                if failed:
                    logger.warning(f"could not create topics: {'; '.join(failed)}")
    finally:
        await admin.close()


class CorrelationIdMiddleware(BaseMiddleware):
    """Carries the correlation id from a consumed message into logs and everything it publishes."""

    async def consume_scope(self, call_next: Any, msg: StreamMessage[Any]) -> Any:
        headers = msg.headers or {}
        correlation_id = headers.get(CORRELATION_ID_HEADER) or msg.correlation_id or new_id()
        token = correlation_id_var.set(str(correlation_id))
        try:
            return await call_next(msg)
        finally:
            correlation_id_var.reset(token)

    async def publish_scope(self, call_next: Any, cmd: Any) -> Any:
        correlation_id = correlation_id_var.get()
        if correlation_id:
            cmd.correlation_id = cmd.correlation_id or correlation_id
            cmd.add_headers({CORRELATION_ID_HEADER: correlation_id}, override=False)
        return await call_next(cmd)


def create_broker(
    settings: KafkaSettings, *, client_id: str, graceful_timeout_s: float = 15
) -> KafkaBroker:
    return KafkaBroker(
        settings.kafka_bootstrap_servers,
        security=settings.kafka_security(),
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        allow_auto_create_topics=False,
        graceful_timeout=graceful_timeout_s,
        middlewares=[CorrelationIdMiddleware],
        # Per-message "Received"/"Processed" lines are debug detail, not the service's log.
        log_level=logging.DEBUG,
        request_timeout_ms=10_000,
        retry_backoff_ms=200,
    )
