"""The ``orders.ingested.v1`` subscriber: decode, hand to the service, commit.

Offsets: the subscriber uses ``AckPolicy.NACK_ON_ERROR``. FastStream then turns aiokafka's
auto-commit off and commits the consumer's position (the end of the batch just handled) only
after the handler returned, i.e. after every order and its events are written; on an error it
seeks back to the batch's first record instead. A crash before the commit redelivers the batch,
which is harmless because the upsert is idempotent.

Failures are split by cause:

- an event that can never be processed (not JSON, not an ``OrderIngested``, an unknown channel)
  is dead-lettered to ``orders.ingested.v1.dlq`` with the same key and headers plus the error,
  then committed, so the partition goes on;
- a store (MongoDB or the query side) being away is not the event's fault: the write is
  retried with backoff for a while, then the handler raises, FastStream seeks back to the
  record (nack) and it is redelivered.

The handler receives the raw records (a pass-through decoder), so a malformed event reaches
this code instead of failing inside the framework's decoding.
"""

from __future__ import annotations

from typing import Any

from aiokafka import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.subscriber.usecase import LogicSubscriber
from loguru import logger
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_delay,
    wait_exponential_jitter,
)

from orderhub_common.errors import is_store_outage
from orderhub_common.events import AuditRecorded, OrderIngested
from orderhub_common.kafka import Topics, raw_bodies
from orderhub_common.logging import utc_now
from orderhub_common.workers import run_probe
from orders import metrics
from orders.audit_log import AuditLog
from orders.dead_letters import DeadLetters, PoisonEventError, decode_audit, decode_ingested
from orders.errors import ConcurrentChangeError
from orders.service import OrderService

GROUP_ID = "orders"
DEAD_LETTER_GROUP_ID = "orders-dead-letters"


def dead_letter_headers(
    record: ConsumerRecord[bytes, bytes], error: PoisonEventError
) -> dict[str, str]:
    headers = {name: value.decode("utf-8", "replace") for name, value in record.headers}
    return {
        **headers,
        "x-error": str(error),
        "x-error-type": error.error_type,
        "x-original-topic": record.topic,
        "x-original-partition": str(record.partition),
        "x-original-offset": str(record.offset),
        "x-dead-lettered-at": utc_now().isoformat(),
    }


async def publish_dead_letter(
    broker: KafkaBroker,
    topic: str,
    record: ConsumerRecord[bytes, bytes],
    error: PoisonEventError,
    *,
    stream: str,
) -> None:
    """The record byte for byte, under its key, with its headers plus what went wrong; counted
    under ``stream`` (``ingested`` or ``audit``), which the alerts tell apart."""
    await broker.publish(
        record.value or b"", topic=topic, key=record.key, headers=dead_letter_headers(record, error)
    )
    metrics.DEAD_LETTERED.labels(stream, error.error_type).inc()


def _batch_subscriber(
    broker: KafkaBroker, topic: str, group_id: str, max_batch: int
) -> LogicSubscriber[Any]:
    # Offsets commit only after the handler returned (a failed write is redelivered), and a new
    # group starts from the beginning, so nothing on the topic before it is lost. The raw records
    # are decoded by the handlers, which dead-letter what does not decode. Described with their
    # real payload schemas by api/asyncapi.py.
    return broker.subscriber(
        topic,
        group_id=group_id,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        batch=True,
        max_records=max_batch,
        batch_timeout_ms=100,
        auto_offset_reset="earliest",
        decoder=raw_bodies,
        include_in_schema=False,
    )


def _worth_retrying(exc: BaseException) -> bool:
    return isinstance(exc, ConcurrentChangeError) or is_store_outage(exc)


def _store_retries(give_up_after_s: float) -> AsyncRetrying:
    return AsyncRetrying(
        retry=retry_if_exception(_worth_retrying),
        wait=wait_exponential_jitter(multiplier=0.2, max=5, jitter=0.5),
        stop=stop_after_delay(give_up_after_s),
        reraise=True,
    )


def register_ingested_consumer(
    broker: KafkaBroker,
    topics: Topics,
    service: OrderService,
    *,
    store_retry_s: float = 30,
    max_batch: int = 200,
) -> LogicSubscriber[Any]:
    """Consumes in batches of up to ``max_batch`` records, handed to the service whole: it
    reads them as concurrent point reads and writes new orders with one insert. After
    ``store_retry_s`` of failing writes the batch is handed back (nack) and redelivered, so a
    long outage never turns into dead letters or lost orders."""
    subscriber = _batch_subscriber(broker, topics.ingested, GROUP_ID, max_batch)

    async def dead_letter(record: ConsumerRecord[bytes, bytes], error: PoisonEventError) -> None:
        await publish_dead_letter(broker, topics.ingested_dlq, record, error, stream="ingested")
        metrics.CONSUMED.labels("dead_lettered").inc()
        logger.warning(f"dead-lettered an ingested event ({error.error_type}): {error}")

    async def record_all(events: list[OrderIngested]) -> None:
        for outcome in await service.record_ingested(events):
            metrics.CONSUMED.labels(outcome.value).inc()

    @subscriber
    async def on_ingested(bodies: list[bytes], message: KafkaMessage) -> None:
        records: tuple[ConsumerRecord[bytes, bytes], ...] = message.raw_message
        events: list[OrderIngested] = []
        for record in records:
            try:
                events.append(decode_ingested(record.value or b""))
            except PoisonEventError as error:
                await dead_letter(record, error)
        # Retried as a whole: what a failed attempt already wrote is a no-op the next time.
        async for attempt in _store_retries(store_retry_s):
            with attempt:
                await record_all(events)

    return subscriber


def register_dead_letter_keeper(
    broker: KafkaBroker, topics: Topics, dead_letters: DeadLetters
) -> LogicSubscriber[Any]:
    """Keeps every dead letter in the query side for the admin page, from the topic's start
    (a new deployment finds the old ones), committing after the rows are written."""
    subscriber = _batch_subscriber(broker, topics.ingested_dlq, DEAD_LETTER_GROUP_ID, 200)

    @subscriber
    async def on_dead_letter(bodies: list[bytes], message: KafkaMessage) -> None:
        records: tuple[ConsumerRecord[bytes, bytes], ...] = message.raw_message
        async for attempt in _store_retries(30):
            with attempt:
                await dead_letters.keep(list(records))

    return subscriber


class ConsumerLagProbe:
    """Keeps ``orders_consumer_lag`` current from the consumer's own fetch metadata (no extra
    requests to the broker)."""

    def __init__(self, subscriber: LogicSubscriber[Any], *, interval_s: float = 5.0) -> None:
        self._subscriber = subscriber
        self._interval_s = interval_s

    async def run(self) -> None:
        # Not measured, e.g. during a rebalance: the next probe will do.
        await run_probe(self._export, what="consumer lag", interval_s=self._interval_s)

    async def _export(self) -> None:
        metrics.CONSUMER_LAG.set(await self.measure())

    async def measure(self) -> int:
        consumer = self._subscriber.consumer
        if consumer is None:
            return 0
        lag = 0
        for partition in consumer.assignment():
            highwater = consumer.highwater(partition)
            if highwater is not None:
                lag += max(0, highwater - await consumer.position(partition))
        return lag


def register_audit_consumer(
    broker: KafkaBroker,
    topics: Topics,
    audit_log: AuditLog,
    *,
    store_retry_s: float = 30,
    max_batch: int = 500,
) -> LogicSubscriber[Any]:
    """The audit keeper: ``audit.v1`` into the append-only audit table, each record once by its
    event id, committed only after the write; an undecodable record is dead-lettered."""
    subscriber = _batch_subscriber(broker, topics.audit, GROUP_ID, max_batch)

    @subscriber
    async def on_audit(bodies: list[bytes], message: KafkaMessage) -> None:
        records: tuple[ConsumerRecord[bytes, bytes], ...] = message.raw_message
        entries: list[AuditRecorded] = []
        for record in records:
            try:
                entries.append(decode_audit(record.value or b""))
            except PoisonEventError as error:
                await publish_dead_letter(broker, topics.audit_dlq, record, error, stream="audit")
                logger.warning(f"dead-lettered an audit record ({error.error_type}): {error}")
        async for attempt in _store_retries(store_retry_s):
            with attempt:
                await audit_log.keep(entries)

    return subscriber
