from __future__ import annotations

import pytest

from bench import scenarios
from bench.results import Numbers, StepResult

pytestmark = pytest.mark.unit


def measured(rps: float, p95_ms: float, errors: int = 0, requests: int = 1000) -> Numbers:
    return Numbers(
        requests=requests,
        seconds=10,
        rps=rps,
        p50_ms=p95_ms / 3,
        p95_ms=p95_ms,
        p99_ms=p95_ms * 2,
        max_ms=p95_ms * 3,
        errors=errors,
    )


def step(rate: float | None, sustained: bool) -> StepResult:
    return StepResult(
        scenario="stress",
        label=f"{rate} req/s",
        users=1,
        target_rate=rate,
        numbers=measured(rate or 1, 100),
        sustained=sustained,
    )


def test_the_crowd_signs_in_once_then_each_step_paces_the_same_people_at_its_rate() -> None:
    plan = scenarios.crowd("crowd", [(25, 60), (200, 60), (400, 30)], users=100)
    first, second, third = plan.steps
    assert plan.user_class == "CrowdUser"
    assert {s.users for s in plan.steps} == {100}
    assert [s.target_rate for s in plan.steps] == [25, 200, 400]
    # The first step also holds the sign-in, which its numbers leave out.
    assert first.duration_s == 60 + scenarios.CROWD_SIGN_IN_S
    assert first.warmup_s > scenarios.CROWD_SIGN_IN_S
    assert first.spawn_rate * scenarios.CROWD_SIGN_IN_S == 100
    assert (second.duration_s, third.duration_s) == (60, 30)
    assert all(s.warmup_s < s.duration_s / 2 and not s.stop_if_broken for s in plan.steps)


def test_the_stress_ramp_is_the_crowd_and_stops_at_its_first_broken_step() -> None:
    plan = scenarios.stress([100, 250], step_s=15, users=100)
    assert plan.user_class == "CrowdUser"
    assert [s.target_rate for s in plan.steps] == [100, 250]
    assert all(s.stop_if_broken for s in plan.steps)


def test_the_one_heavy_admin_is_one_session_as_busy_as_the_per_user_limit_allows() -> None:
    plan = scenarios.heavy_admin(per_user_per_min=300, duration_s=60)
    [step] = plan.steps
    assert plan.user_class == "PacedAdmin"
    assert plan.name == "one heavy admin"
    assert step.target_rate == 4.5  # 90% of 300 a minute
    assert step.label == "4.5 req/s, one session"
    assert step.users * scenarios.PACED_USER_RATE >= step.target_rate


def test_closed_loops_are_the_crowd_and_never_stop_early() -> None:
    normal = scenarios.closed_loop("normal", 20, duration_s=60, ramp_s=10)
    assert normal.user_class == "CrowdUser"
    assert (normal.steps[0].users, normal.steps[0].spawn_rate) == (20, 2)
    assert normal.steps[0].target_rate is None
    assert not normal.steps[0].stop_if_broken


def test_the_plan_has_the_crowd_steps_the_targets_are_stated_for() -> None:
    assert scenarios.FULL_PLAN.crowd_steps == ((25, 60), (200, 60), (400, 30))


def test_sustained_means_the_seed_targets_at_the_rate_asked() -> None:
    assert scenarios.is_sustained(measured(196, 400), 200)
    assert not scenarios.is_sustained(measured(180, 400), 200)  # fell short of the rate
    assert not scenarios.is_sustained(measured(200, 600), 200)  # p95 over 500 ms
    assert not scenarios.is_sustained(measured(200, 100, errors=20), 200)  # 2% errors
    assert scenarios.is_sustained(measured(15, 100), None)  # closed loop: no rate asked
    assert not scenarios.is_sustained(measured(0, 0, requests=0), None)


def test_broken_names_what_gave_way() -> None:
    assert scenarios.broken_reason(measured(200, 600), 200) is None  # slow, not broken
    assert scenarios.broken_reason(measured(200, 100, errors=60), 200) == "6% errors"
    assert scenarios.broken_reason(measured(200, 2500), 200) == "p95 2.5 s"
    assert scenarios.broken_reason(measured(150, 100), 200) == "only 150 of 200 req/s"
    assert scenarios.broken_reason(measured(0, 0, requests=0), 200) == "no request completed"


def test_the_highest_sustained_rate_is_over_paced_steps_only() -> None:
    steps = [step(None, True), step(100, True), step(200, True), step(300, False)]
    assert scenarios.highest_sustained_rate(steps) == 200
    assert scenarios.highest_sustained_rate([step(100, False)]) is None


def test_the_store_is_filled_through_each_checkpoint_above_what_it_holds() -> None:
    plan = scenarios.FULL_PLAN
    assert scenarios.fill_checkpoints(600, plan) == [1_000, 10_000, 50_000, 100_000]
    assert scenarios.fill_checkpoints(20_000, plan) == [50_000, 100_000]
    assert scenarios.fill_checkpoints(100_000, plan) == []
    assert scenarios.fill_checkpoints(250_000, plan) == []
    quick = scenarios.quick_plan(stored=600)
    assert scenarios.fill_checkpoints(600, quick) == [900]


def test_the_full_run_fits_its_time_budget() -> None:
    plan = scenarios.FULL_PLAN
    assert scenarios.load_duration_bound_s(plan) <= 12 * 60
    assert plan.fill_budget_s + scenarios.load_duration_bound_s(plan) <= 25 * 60
    assert min(plan.stress_rates) <= 50
    assert max(plan.stress_rates) > scenarios.TARGET_RATE


def test_filling_stops_when_the_next_checkpoint_would_overrun_the_budget() -> None:
    assert scenarios.next_fill_fits(1_000, rate=None, remaining_s=600)  # nothing measured yet
    assert scenarios.next_fill_fits(50_000, rate=100, remaining_s=600)
    assert not scenarios.next_fill_fits(50_000, rate=50, remaining_s=600)
    assert not scenarios.next_fill_fits(10, rate=100, remaining_s=0)
    assert not scenarios.next_fill_fits(10, rate=0, remaining_s=600)


def test_a_larger_crowd_takes_longer_to_sign_in_within_bounds() -> None:
    assert scenarios.sign_in_s(100) == 10
    assert scenarios.sign_in_s(313) == pytest.approx(31.3)
    assert scenarios.sign_in_s(5000) == scenarios.CROWD_SIGN_IN_MAX_S
    ramp = scenarios.stress([50, 100], step_s=15, users=313)
    assert ramp.steps[0].duration_s == pytest.approx(15 + 31.3)
    assert ramp.steps[0].spawn_rate == pytest.approx(10)
