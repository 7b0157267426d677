from __future__ import annotations

import random
from collections import Counter
from concurrent.futures import Future
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from bench import demo_data
from bench.api import ApiError

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def test_split_is_exact_and_follows_the_shares() -> None:
    assert demo_data.split(10_000, demo_data.CHANNEL_SHARES) == {
        "website": 4000,
        "amazon": 3500,
        "blinkit": 2500,
    }
    odd = demo_data.split(7, demo_data.CHANNEL_SHARES)
    assert sum(odd.values()) == 7
    assert odd["website"] >= odd["amazon"] >= odd["blinkit"]
    assert demo_data.split(0, demo_data.CHANNEL_SHARES) == {"website": 0, "amazon": 0, "blinkit": 0}


def test_a_history_spans_the_weeks_before_now_split_over_the_channels() -> None:
    batches = demo_data.history_plan(10_000, NOW)
    assert sum(b.count for b in batches) == 10_000
    by_channel: Counter[str] = Counter()
    for batch in batches:
        by_channel[batch.channel] += batch.count
        assert batch.placed_between is not None
        start, end = batch.placed_between
        assert NOW - timedelta(days=demo_data.HISTORY_DAYS) <= start < end <= NOW
        assert 1 <= batch.count <= demo_data.MAX_PER_CALL
    assert by_channel == {"website": 4000, "amazon": 3500, "blinkit": 2500}


def test_older_orders_got_further_along_their_life() -> None:
    batches = demo_data.history_plan(2_800, NOW)
    newest = next(b for b in batches if b.placed_between and b.placed_between[1] == NOW)
    oldest = min(batches, key=lambda b: b.placed_between[0] if b.placed_between else NOW)
    assert newest.outcomes["PLACED"] > 40
    assert "DELIVERED" not in newest.outcomes
    assert oldest.outcomes["DELIVERED"] > 80
    assert "PLACED" not in oldest.outcomes
    assert all(b.outcomes.get("CANCELLED", 0) > 0 for b in batches)


def test_calls_never_ask_for_more_than_the_control_api_allows() -> None:
    assert demo_data.chunks(25_000) == [10_000, 10_000, 5_000]
    assert demo_data.chunks(0) == []
    big = demo_data.new_orders_plan(30_000)
    assert all(b.count <= demo_data.MAX_PER_CALL for b in big)
    assert sum(b.count for b in big) == 30_000


def test_new_orders_are_placed_now_and_stay_placed() -> None:
    batches = demo_data.new_orders_plan(1_000)
    assert all(b.placed_between is None and b.outcomes == {"PLACED": 100} for b in batches)
    assert {b.channel: b.count for b in batches} == {"website": 400, "amazon": 350, "blinkit": 250}


def test_outcomes_are_drawn_by_their_weights() -> None:
    rng = random.Random(7)
    drawn = Counter(
        demo_data.pick_outcome({"PLACED": 75, "CANCELLED": 25}, rng) for _ in range(4000)
    )
    assert set(drawn) == {"PLACED", "CANCELLED"}
    assert 0.7 < drawn["PLACED"] / 4000 < 0.8


def test_the_wait_budget_grows_with_the_orders_expected() -> None:
    assert demo_data.wait_budget_s(10_000) == pytest.approx(60 + 10_000 / demo_data.MIN_RATE)
    assert demo_data.wait_budget_s(100_000) > 9 * demo_data.wait_budget_s(10_000) / 2


class FakeHub:
    """Answers counts from a script; ``None`` in it is a poll the stack did not answer."""

    def __init__(self, totals: list[int | None], found: bool = True) -> None:
        self._totals = totals
        self._found = found
        self.searched: list[str] = []

    def stored_total(self) -> int:
        total = self._totals.pop(0) if len(self._totals) > 1 else self._totals[0]
        if total is None:
            raise httpx.ConnectError("connection refused")
        return total

    def find_by_external_id(self, external_id: str) -> dict[str, Any] | None:
        self.searched.append(external_id)
        return {"externalId": external_id} if self._found else None


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def done(last_created: dict[str, str]) -> Future[dict[str, str]]:
    future: Future[dict[str, str]] = Future()
    future.set_result(last_created)
    return future


def wait(
    hub: FakeHub, creation: Future[dict[str, str]], progress: list[int], budget_s: float = 600
) -> None:
    clock = FakeClock()
    demo_data.wait_until_stored(
        hub,
        creation,
        target_total=1_100,
        expected=100,
        on_progress=progress.append,
        budget_s=budget_s,
        clock=clock,
        sleep=clock.sleep,
    )


def test_the_wait_ends_when_all_are_counted_and_each_channels_last_order_is_found() -> None:
    hub = FakeHub([1_000, 1_040, None, 1_090, 1_100])
    progress: list[int] = []
    wait(hub, done({"website": "5512", "amazon": "402-1-2"}), progress)
    assert progress == [0, 40, 40, 90, 100]  # the unanswered poll counts as no progress
    assert hub.searched == ["5512", "402-1-2"]


def test_a_stalled_pipeline_is_reported_with_what_arrived() -> None:
    hub = FakeHub([1_000, 1_030])
    with pytest.raises(demo_data.DeliveryError, match="no new order arrived") as failure:
        wait(hub, done({"website": "5512"}), [])
    assert failure.value.arrived == 30
    assert failure.value.seconds > demo_data.STALL_LIMIT_S


def test_orders_counted_but_not_found_keep_the_wait_going_until_the_budget() -> None:
    hub = FakeHub([1_000, 1_050, 1_100], found=False)
    with pytest.raises(demo_data.DeliveryError, match="only 100 of 100"):
        wait(hub, done({"website": "5512"}), [], budget_s=60)


def test_a_failed_creation_ends_the_wait_at_once() -> None:
    creation: Future[dict[str, str]] = Future()
    creation.set_exception(ApiError("creating 100 website orders: 503"))
    with pytest.raises(ApiError, match="503"):
        wait(FakeHub([1_000]), creation, [])


class FakeStats:
    """Answers status counts from a script; ``None`` in it is a poll the stack did not answer."""

    def __init__(self, answers: list[dict[str, int] | None]) -> None:
        self._answers = answers

    def by_status(self) -> dict[str, int]:
        answer = self._answers.pop(0) if len(self._answers) > 1 else self._answers[0]
        if answer is None:
            raise httpx.ConnectError("connection refused")
        return answer


def settle(stats: FakeStats, progress: list[int], budget_s: float = 600) -> None:
    clock = FakeClock()
    demo_data.wait_until_settled(
        stats,
        {"PLACED": 10, "DELIVERED": 80, "CANCELLED": 10},
        expected=100,
        on_progress=progress.append,
        budget_s=budget_s,
        clock=clock,
        sleep=clock.sleep,
    )


def test_the_wait_for_statuses_ends_only_when_every_order_is_in_its_final_status() -> None:
    # All 100 stored from the first poll, but most still PLACED: not settled yet.
    stats = FakeStats(
        [
            {"PLACED": 100},
            {"PLACED": 40, "CONFIRMED": 20, "DELIVERED": 35, "CANCELLED": 5},
            None,
            {"PLACED": 10, "DELIVERED": 80, "CANCELLED": 10},
        ]
    )
    progress: list[int] = []
    settle(stats, progress)
    assert progress == [10, 50, 50, 100]


def test_statuses_that_stop_moving_are_reported_with_how_many_did_not_settle() -> None:
    with pytest.raises(demo_data.DeliveryError, match="30 of 100 orders are not in their final"):
        settle(FakeStats([{"PLACED": 40, "DELIVERED": 60}]), [])
