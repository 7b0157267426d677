"""The two lanes of ingested orders as orders consumes them: the live lane first, the history
lane (a backfill) with what is left; and how far behind each lane is, in events and in time.

Both lanes' batches go through one ``LivePriority``: a history batch starts only while the live
lane has nothing waiting (its consumer has joined, holds no batch and has no lag on its
partitions), and one batch writes at a time, so a live change waits for at most the history
batch already being written. Per-order order across lanes is the store's: a channel copy older
than the stored one changes nothing (``decide_channel_update`` compares the channel's
``updatedAt``) and every write is conditional on the revision it was computed from.

The age of an event is now minus its Kafka record's timestamp (when ingest published it), not
the order's channel time: history orders are old by nature.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiokafka import ConsumerRecord
from faststream.kafka.subscriber.usecase import LogicSubscriber

from orderhub_common.kafka import Lane
from orderhub_common.logging import utc_now
from orderhub_common.workers import run_probe
from orders import metrics

# A history batch waits at most this long for the live lane to go idle, then goes anyway: a
# consumer that does not come back for its next batch within Kafka's max.poll.interval.ms
# (5 minutes) is taken out of the group, which would stop the live lane too.
HISTORY_MAX_WAIT_S = 60.0
_IDLE_CHECK_S = 0.05


class LaneProgress:
    """What one lane's consumer holds and how far behind it is."""

    def __init__(self, lane: Lane, clock: Any = time.time) -> None:
        self.lane = lane
        self.subscriber: LogicSubscriber[Any] | None = None
        self._clock = clock
        self._in_hand = 0
        self._oldest_in_hand_ms: int | None = None
        self._last_done_ms: int | None = None
        self._lag = 0

    @contextlib.contextmanager
    def holding(self, records: Sequence[ConsumerRecord[bytes, bytes]]) -> Any:
        """While a batch is being processed (or waits to be): it counts as waiting."""
        self._in_hand = len(records)
        stamps = [r.timestamp for r in records if r.timestamp is not None and r.timestamp >= 0]
        self._oldest_in_hand_ms = min(stamps) if stamps else None
        try:
            yield
        finally:
            if stamps:
                self._last_done_ms = max(stamps)
            self._in_hand = 0
            self._oldest_in_hand_ms = None

    @property
    def ready(self) -> bool:
        """Whether the lane's consumer has joined its group and has fetched from each of its
        partitions since: until then how much waits there is unknown, not zero (a group's first
        rebalance holds its consumers for seconds after they were assigned)."""
        consumer = self.subscriber.consumer if self.subscriber is not None else None
        if consumer is None:
            return False
        assignment = consumer.assignment()
        return bool(assignment) and all(consumer.highwater(p) is not None for p in assignment)

    async def refresh_lag(self) -> int:
        """Events fetched by nobody yet (highwater - position), from the consumer's own fetch
        metadata: no request to the broker."""
        consumer = self.subscriber.consumer if self.subscriber is not None else None
        lag = 0
        if consumer is not None:
            for partition in consumer.assignment():
                highwater = consumer.highwater(partition)
                if highwater is not None:
                    lag += max(0, highwater - await consumer.position(partition))
        self._lag = lag
        return lag

    @property
    def waiting(self) -> int:
        return self._in_hand + self._lag

    def oldest_waiting_age_s(self) -> float:
        """The batch in hand's oldest record; between batches, with a lag, the last record done
        (what waits is newer than it): an upper bound, never an understatement."""
        if self.waiting == 0:
            return 0.0
        stamp = self._oldest_in_hand_ms if self._in_hand else self._last_done_ms
        if stamp is None:
            return 0.0
        return max(0.0, self._clock() - stamp / 1000)


class LivePriority:
    """The live lane first: see the module's docstring."""

    def __init__(self, live: LaneProgress, *, history_max_wait_s: float = HISTORY_MAX_WAIT_S):
        self._live = live
        self._history_max_wait_s = history_max_wait_s
        self._live_batches = 0
        self._writing = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def live(self) -> AsyncIterator[None]:
        self._live_batches += 1
        try:
            async with self._writing:
                yield
        finally:
            self._live_batches -= 1

    @contextlib.asynccontextmanager
    async def history(self) -> AsyncIterator[None]:
        deadline = time.monotonic() + self._history_max_wait_s
        # Polled: the live lane's lag comes from its consumer's fetch metadata, no event.
        while time.monotonic() < deadline and await self._live_busy():  # noqa: ASYNC110
            await asyncio.sleep(_IDLE_CHECK_S)
        async with self._writing:
            yield

    async def _live_busy(self) -> bool:
        # Not ready yet (starting, rebalancing, not fetched yet): it may have a backlog of its own
        # to take first.
        if self._live_batches > 0 or not self._live.ready:
            return True
        return await self._live.refresh_lag() > 0


@dataclass(frozen=True)
class LaneState:
    lane: Lane
    waiting: int
    oldest_waiting_age_s: float


@dataclass(frozen=True)
class PipelineState:
    """How far behind the orders consumer is (``GET /pipeline``)."""

    live: bool
    behind_s: float
    waiting: int
    lanes: tuple[LaneState, ...]
    measured_at: datetime


class PipelineProbe:
    """Measures both lanes, exports the gauges every ``interval_s`` and answers ``/pipeline``."""

    def __init__(
        self, lanes: Sequence[LaneProgress], *, live_within_s: float, interval_s: float = 5.0
    ) -> None:
        self._lanes = tuple(lanes)
        self._live_within_s = live_within_s
        self._interval_s = interval_s

    async def run(self) -> None:
        await run_probe(self.measure, what="lane lag", interval_s=self._interval_s)

    async def measure(self) -> PipelineState:
        states = []
        for progress in self._lanes:
            lag = await progress.refresh_lag()
            if progress.lane == Lane.LIVE:
                metrics.CONSUMER_LAG.set(lag)
            state = LaneState(progress.lane, progress.waiting, progress.oldest_waiting_age_s())
            metrics.LANE_WAITING.labels(state.lane.value).set(state.waiting)
            metrics.LANE_OLDEST_AGE.labels(state.lane.value).set(state.oldest_waiting_age_s)
            states.append(state)
        behind = max((s.oldest_waiting_age_s for s in states), default=0.0)
        # A lane whose consumer has not joined yet (a start, a rebalance) has an unknown backlog,
        # not an empty one: never "live" until every lane has been measured.
        joined = all(progress.ready for progress in self._lanes)
        return PipelineState(
            live=joined and behind < self._live_within_s,
            behind_s=round(behind, 1),
            waiting=sum(s.waiting for s in states),
            lanes=tuple(states),
            measured_at=utc_now(),
        )
