"""The subscribers of the ingested orders' two lanes, ``orders.ingested.v1`` (live, group
``orders``) and ``orders.ingested.history.v1`` (history, group ``orders-history``; consumed
while the live lane is idle, ``lanes.py``): decode, hand to the service, commit.

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

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
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
from orderhub_common.kafka import Lane, Topics, raw_bodies
from orderhub_common.logging import utc_now
from orders import metrics
from orders.audit_log import AuditLog
from orders.dead_letters import DeadLetters, PoisonEventError, decode_audit, decode_ingested
from orders.errors import ConcurrentChangeError
from orders.lanes import HISTORY_MAX_WAIT_S, LaneProgress, LivePriority
from orders.service import OrderService

GROUP_ID = "orders"
# The history lane's group, apart from the live lane's: its rebalances and its lag are its own.
HISTORY_GROUP_ID = "orders-history"
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
    # real payload schemas by api/asyncapi.py. The batch timeout is a latency bound, not only an
    # idle wait: after a wait that found no record FastStream (0.7.8) sleeps that long before it
    # asks again, and a live order arriving meanwhile waits it out. At 100 ms the four
    # subscribers wake an idle orders 40 times a second, about a third of its idle CPU.
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
    history_max_wait_s: float = HISTORY_MAX_WAIT_S,
) -> dict[Lane, LaneProgress]:
    """Consumes both lanes (``lanes.py``) in batches of up to ``max_batch`` records, each batch
    handed to the service whole: one point read per stored order, one insert for the new ones
    and bulk writes for the changed ones. After ``store_retry_s`` of failing writes the batch
    is handed back (nack) and redelivered, so a long outage never turns into dead letters or
    lost orders. Returns each lane's progress, for the lag probe and ``/pipeline``."""
    progress = {lane: LaneProgress(lane) for lane in Lane}
    priority = LivePriority(progress[Lane.LIVE], history_max_wait_s=history_max_wait_s)

    async def dead_letter(record: ConsumerRecord[bytes, bytes], error: PoisonEventError) -> None:
        await publish_dead_letter(broker, topics.ingested_dlq, record, error, stream="ingested")
        metrics.CONSUMED.labels("dead_lettered").inc()
        logger.warning(f"dead-lettered an ingested event ({error.error_type}): {error}")

    async def record_all(events: list[OrderIngested]) -> None:
        for outcome in await service.record_ingested(events):
            metrics.CONSUMED.labels(outcome.value).inc()

    async def handle(records: tuple[ConsumerRecord[bytes, bytes], ...]) -> None:
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

    def handler(
        lane_progress: LaneProgress, take_turn: Callable[[], AbstractAsyncContextManager[None]]
    ) -> Callable[[list[bytes], KafkaMessage], Awaitable[None]]:
        async def on_ingested(bodies: list[bytes], message: KafkaMessage) -> None:
            records: tuple[ConsumerRecord[bytes, bytes], ...] = message.raw_message
            with lane_progress.holding(records):
                async with take_turn():
                    await handle(records)

        return on_ingested

    for lane in Lane:
        group_id = GROUP_ID if lane == Lane.LIVE else HISTORY_GROUP_ID
        subscriber = _batch_subscriber(broker, topics.of_lane(lane), group_id, max_batch)
        progress[lane].subscriber = subscriber
        turn = priority.live if lane == Lane.LIVE else priority.history
        subscriber(handler(progress[lane], turn))
    return progress


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
