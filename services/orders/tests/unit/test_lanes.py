"""The live lane first: a history batch waits while the live lane has anything waiting, one
batch writes at a time, and how far behind a lane is, is measured from its records' times."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from aiokafka import ConsumerRecord, TopicPartition

from orderhub_common.kafka import Lane
from orders.lanes import LaneProgress, LivePriority, PipelineProbe

pytestmark = pytest.mark.unit


def record(timestamp_ms: int) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord("t", 0, 0, timestamp_ms, 0, b"k", b"v", None, 1, 1, [])


class ReadyLane(LaneProgress):
    """A lane whose consumer has joined and has nothing to fetch."""

    @property
    def ready(self) -> bool:
        return True


class JoinedConsumer:
    """A consumer with one partition, fetched from (highwater known) or not yet."""

    def __init__(self, highwater: int | None) -> None:
        self.highwater_mark = highwater

    def assignment(self) -> set[TopicPartition]:
        return {TopicPartition("t", 0)}

    def highwater(self, partition: TopicPartition) -> int | None:
        return self.highwater_mark


def test_a_lane_is_ready_once_its_consumer_has_fetched_from_its_partitions() -> None:
    lane = LaneProgress(Lane.LIVE)
    assert not lane.ready  # no consumer yet
    consumer = JoinedConsumer(highwater=None)
    lane.subscriber = SimpleNamespace(consumer=consumer)  # type: ignore[assignment]
    # Assigned, but what waits on its partition is unknown until its first fetch answers.
    assert not lane.ready
    consumer.highwater_mark = 0
    assert lane.ready


async def test_a_history_batch_waits_while_the_live_lane_has_not_fetched_yet() -> None:
    live = LaneProgress(Lane.LIVE)
    live.subscriber = SimpleNamespace(consumer=JoinedConsumer(highwater=None))  # type: ignore[assignment]
    priority = LivePriority(live, history_max_wait_s=0.3)
    started = asyncio.get_running_loop().time()
    async with priority.history():
        waited = asyncio.get_running_loop().time() - started
    assert waited >= 0.3  # held until the bound, not let through on an unknown lag


async def test_a_history_batch_waits_until_the_live_lane_is_done() -> None:
    live = ReadyLane(Lane.LIVE)
    priority = LivePriority(live, history_max_wait_s=30)
    done: list[str] = []
    live_may_finish = asyncio.Event()

    async def live_batch() -> None:
        async with priority.live():
            await live_may_finish.wait()
            done.append("live")

    async def history_batch() -> None:
        async with priority.history():
            done.append("history")

    live_task = asyncio.create_task(live_batch())
    await asyncio.sleep(0)
    history_task = asyncio.create_task(history_batch())
    await asyncio.sleep(0.2)
    assert done == []  # the history batch has not started while a live batch runs

    live_may_finish.set()
    await asyncio.gather(live_task, history_task)
    assert done == ["live", "history"]


async def test_a_history_batch_is_not_held_forever_by_a_busy_live_lane() -> None:
    live = LaneProgress(Lane.LIVE)
    priority = LivePriority(live, history_max_wait_s=0.2)

    async def busy() -> bool:
        return True

    priority._live_busy = busy  # type: ignore[method-assign]
    async with asyncio.timeout(5), priority.history():
        pass


async def test_the_pipeline_reports_the_oldest_waiting_event_of_each_lane() -> None:
    now_s = 1_000_000.0
    lanes = {lane: ReadyLane(lane, clock=lambda: now_s) for lane in Lane}
    probe = PipelineProbe(list(lanes.values()), live_within_s=10)

    with lanes[Lane.HISTORY].holding(
        [record(int((now_s - 742) * 1000)), record(int(now_s * 1000))]
    ):
        state = await probe.measure()
    assert not state.live
    assert state.behind_s == 742.0
    assert state.waiting == 2
    assert [(s.lane, s.waiting) for s in state.lanes] == [(Lane.LIVE, 0), (Lane.HISTORY, 2)]

    drained = await probe.measure()
    assert drained.live
    assert (drained.behind_s, drained.waiting) == (0.0, 0)


async def test_the_pipeline_is_never_live_before_every_lanes_consumer_has_joined() -> None:
    # Before its first assignment a lane's consumer knows of no lag: nothing waiting is not "live".
    probe = PipelineProbe([ReadyLane(Lane.LIVE), LaneProgress(Lane.HISTORY)], live_within_s=10)

    state = await probe.measure()

    assert (state.live, state.waiting) == (False, 0)
