"""The edge's per-service limit follows the service's latency, within its bounds, and a call is
refused only when waiting for a slot would break the latency target."""

from __future__ import annotations

import asyncio

import pytest

from gateway.concurrency import AimdLimit, UpstreamSlots

pytestmark = pytest.mark.unit

TARGET_S = 0.25


def limit(minimum: int = 4, maximum: int = 64) -> AimdLimit:
    return AimdLimit(minimum=minimum, maximum=maximum, target_s=TARGET_S)


def test_the_limit_starts_at_the_maximum_and_grows_back_to_it_under_good_latency() -> None:
    aimd = limit()
    now = 0.0
    for _ in range(40):  # a slow spell: the limit comes down
        now += 1
        aimd.answered(0.8, in_flight=aimd.limit, now=now)
    lowered = aimd.limit
    assert lowered < 64
    for _ in range(5000):  # the service answers fast again, with the limit in use
        now += 0.01
        aimd.answered(0.02, in_flight=aimd.limit, now=now)
    assert aimd.limit > lowered
    assert aimd.limit == 64  # and never past the maximum


def test_the_limit_does_not_grow_while_it_is_not_in_use() -> None:
    aimd = limit()
    for step in range(40):
        aimd.answered(0.8, in_flight=64, now=float(step))
    lowered = aimd.limit
    for step in range(1000):
        aimd.answered(0.01, in_flight=1, now=100 + step * 0.01)
    assert aimd.limit == lowered


def test_rising_latency_shrinks_the_limit_once_per_round_trip_and_never_below_the_minimum() -> None:
    aimd = limit(minimum=4)
    # Many slow answers at one instant: the calls admitted under the old limit cut it once.
    for _ in range(30):
        aimd.answered(0.5, in_flight=64, now=10.0)
    assert aimd.limit == int(64 * 0.9)
    now = 10.0
    for _ in range(500):
        now += 1
        aimd.answered(2.0, in_flight=aimd.limit, now=now)
    assert aimd.limit == 4


def test_the_bounds_hold_when_the_minimum_is_above_the_maximum() -> None:
    aimd = limit(minimum=8, maximum=2)
    for step in range(50):
        aimd.answered(5.0, in_flight=2, now=float(step * 10))
    assert (aimd.minimum, aimd.maximum, aimd.limit) == (2, 2, 2)


def test_a_call_queues_only_while_its_expected_wait_keeps_it_within_the_target() -> None:
    aimd = limit(minimum=1, maximum=4)
    aimd.answered(0.05, in_flight=1, now=0.0)  # 50 ms a call, 4 at a time
    assert not aimd.would_break_target(queued=0)  # 12.5 ms of queue
    assert not aimd.would_break_target(queued=18)  # 237 ms
    assert aimd.would_break_target(queued=20)  # 262 ms of queue alone
    # A service slower than the target is not a reason to refuse a short wait.
    aimd.latency_s = 0.4
    assert not aimd.would_break_target(queued=0)  # 100 ms of queue
    assert aimd.would_break_target(queued=2)  # 300 ms


async def test_a_queued_call_gets_the_next_free_slot_and_a_hopeless_one_is_refused_at_once() -> (
    None
):
    aimd = limit(minimum=1, maximum=2)
    aimd.answered(0.05, in_flight=1, now=0.0)
    slots = UpstreamSlots(aimd, queue_timeout_s=1.0)
    assert await slots.take()
    assert await slots.take()
    waiting = asyncio.create_task(slots.take())
    await asyncio.sleep(0)
    assert slots.queued == 1
    slots.release(0.05)
    assert await asyncio.wait_for(waiting, 1)
    assert slots.in_flight == 2

    aimd.latency_s = 1.0  # a second a call, two at a time: a wait of 0.5 s, past the target
    assert not await slots.take()
    assert slots.queued == 0


async def test_a_call_that_waits_past_the_queue_timeout_is_refused_and_frees_its_place() -> None:
    slots = UpstreamSlots(limit(minimum=1, maximum=1), queue_timeout_s=0.05)
    assert await slots.take()
    assert not await slots.take()  # nobody released the one slot within 50 ms
    assert slots.queued == 0
    slots.release(0.01)
    assert slots.in_flight == 0
    assert await slots.take()


async def test_no_queue_timeout_means_no_waiting() -> None:
    slots = UpstreamSlots(limit(minimum=1, maximum=1), queue_timeout_s=0)
    assert await slots.take()
    assert not await slots.take()
