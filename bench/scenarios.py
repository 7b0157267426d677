"""The load scenarios as plans of steps, and when a step counts as sustained or broken.

Closed-loop scenarios (normal, peak) are a number of users with a think time. Paced scenarios
(stress, fixed rates) control the arrival rate: every paced user starts one request every
``1 / PACED_USER_RATE`` seconds whatever the answers, so the offered rate is users times that
rate for as long as answers take less than the pacing interval (then the step falls short of
its target, which counts against it).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

from bench.results import Numbers, StepResult

PACED_USER_RATE = 0.5  # requests per second and paced user: one every 2 s
PACING_INTERVAL_S = 1 / PACED_USER_RATE

# Sustained: the seed's targets (p95 under 500 ms, under 1% errors) at 95% of the rate asked.
SLO_P95_MS = 500.0
SLO_ERROR_RATIO = 0.01
SLO_RATE_SHARE = 0.95
# Broken: the stress ramp stops at the first step this far off.
BREAK_P95_MS = 2000.0
BREAK_ERROR_RATIO = 0.05
BREAK_RATE_SHARE = 0.80

TARGET_RATE = 1000.0  # the rate the system is asked to sustain
BASELINE_RATE = 200.0


@dataclass(frozen=True)
class Step:
    label: str
    duration_s: float
    users: int
    spawn_rate: float
    target_rate: float | None  # None: closed loop
    warmup_s: float  # left out of the numbers: users still arriving
    stop_if_broken: bool = False


@dataclass(frozen=True)
class Scenario:
    name: str
    user_class: str  # the Locust user class in bench/locustfile.py
    steps: tuple[Step, ...]

    @property
    def duration_s(self) -> float:
        return sum(step.duration_s for step in self.steps)

    def to_plan(self) -> dict[str, object]:
        return {"name": self.name, "steps": [asdict(step) for step in self.steps]}


def users_for_rate(rate: float) -> int:
    return max(1, math.ceil(rate / PACED_USER_RATE))


def closed_loop(name: str, users: int, duration_s: float, ramp_s: float) -> Scenario:
    step = Step(
        label=f"{users} users",
        duration_s=duration_s,
        users=users,
        spawn_rate=users / ramp_s if ramp_s > 0 else users,
        target_rate=None,
        warmup_s=ramp_s,
    )
    return Scenario(name, "ThinkingAdmin", (step,))


def _rate_step(rate: float, previous_rate: float, duration_s: float, stop: bool) -> Step:
    users = users_for_rate(rate)
    added = max(1, users - users_for_rate(previous_rate)) if previous_rate else users
    # New users arrive over one pacing interval, so their requests spread evenly over it.
    return Step(
        label=f"{rate:g} req/s",
        duration_s=duration_s,
        users=users,
        spawn_rate=added / PACING_INTERVAL_S,
        target_rate=rate,
        warmup_s=PACING_INTERVAL_S + 1,
        stop_if_broken=stop,
    )


def stress(rates: list[float], step_s: float) -> Scenario:
    """The arrival rate ramped step by step; the run ends at the first broken step."""
    steps = []
    previous = 0.0
    for rate in rates:
        steps.append(_rate_step(rate, previous, step_s, stop=True))
        previous = rate
    return Scenario("stress", "PacedAdmin", tuple(steps))


def fixed_rate(rate: float, duration_s: float) -> Scenario:
    return Scenario(
        f"fixed {rate:g} req/s", "PacedAdmin", (_rate_step(rate, 0, duration_s, stop=False),)
    )


def is_sustained(numbers: Numbers, target_rate: float | None) -> bool:
    if numbers.requests == 0:
        return False
    rate_met = target_rate is None or numbers.rps >= SLO_RATE_SHARE * target_rate
    return rate_met and numbers.p95_ms <= SLO_P95_MS and numbers.error_ratio <= SLO_ERROR_RATIO


def broken_reason(numbers: Numbers, target_rate: float | None) -> str | None:
    """Why this step counts as broken, or None while the system still copes."""
    if numbers.requests == 0:
        return "no request completed"
    if numbers.error_ratio > BREAK_ERROR_RATIO:
        return f"{numbers.error_ratio:.0%} errors"
    if numbers.p95_ms > BREAK_P95_MS:
        return f"p95 {numbers.p95_ms / 1000:.1f} s"
    if target_rate is not None and numbers.rps < BREAK_RATE_SHARE * target_rate:
        return f"only {numbers.rps:g} of {target_rate:g} req/s"
    return None


def highest_sustained_rate(steps: list[StepResult]) -> float | None:
    rates = [s.target_rate for s in steps if s.target_rate is not None and s.sustained]
    return max(rates) if rates else None


@dataclass(frozen=True)
class BenchPlan:
    """How much of everything one run does."""

    description: str
    target_orders: int
    checkpoints: tuple[int, ...]  # store sizes at which reads are measured while filling
    fill_budget_s: float  # filling stops short of the target rather than run past this
    normal_users: int
    peak_users: int
    normal_s: float
    peak_s: float
    stress_rates: tuple[float, ...]
    stress_step_s: float
    fixed_rates: tuple[float, ...]  # always run; the stress ramp's best is added
    fixed_s: float
    ingest_orders: int
    single_orders: int
    history_import_orders: int  # the busy day: a history import while live orders arrive
    read_samples: int
    read_budget_s: float  # per query shape and store size


FULL_PLAN = BenchPlan(
    description="the full plan",
    target_orders=100_000,
    checkpoints=(1_000, 10_000, 50_000, 100_000),
    fill_budget_s=12 * 60,
    normal_users=20,
    peak_users=100,
    normal_s=60,
    peak_s=90,
    stress_rates=(25, 50, 100, 150, 200, 300, 400, 500, 650, 800, 1000, 1250, 1500, 2000),
    stress_step_s=15,
    fixed_rates=(BASELINE_RATE, TARGET_RATE),
    fixed_s=60,
    ingest_orders=10_000,
    single_orders=20,
    history_import_orders=100_000,
    read_samples=10,
    read_budget_s=15,
)


def quick_plan(stored: int) -> BenchPlan:
    """A smoke run of the tooling in about three minutes: small volumes, short steps."""
    return replace(
        FULL_PLAN,
        description=(
            "a smoke run of the tooling with small volumes and short steps, so these figures "
            "say little about capacity (`make bench` measures at full size)"
        ),
        target_orders=stored + 300,
        checkpoints=(),
        fill_budget_s=120,
        normal_users=3,
        peak_users=6,
        normal_s=15,
        peak_s=15,
        stress_rates=(2, 5, 10, 20),
        stress_step_s=8,
        fixed_rates=(5, 10),
        fixed_s=12,
        ingest_orders=300,
        single_orders=5,
        history_import_orders=500,
        read_samples=3,
        read_budget_s=10,
    )


def load_duration_bound_s(plan: BenchPlan) -> float:
    """The longest the load scenarios can take: every step, and a third fixed rate."""
    stress_s = plan.stress_step_s * len(plan.stress_rates)
    return plan.normal_s + plan.peak_s + stress_s + plan.fixed_s * (len(plan.fixed_rates) + 1)


def fill_checkpoints(stored: int, plan: BenchPlan) -> list[int]:
    """The store sizes to fill up to, in order: the plan's above ``stored``, then the target."""
    sizes = [size for size in plan.checkpoints if stored < size < plan.target_orders]
    return [*sizes, plan.target_orders] if plan.target_orders > stored else sizes


def next_fill_fits(missing: int, rate: float | None, remaining_s: float) -> bool:
    """Whether ``missing`` more orders at the ``rate`` measured so far arrive in ``remaining_s``.

    With no rate measured yet the first fill goes ahead: the first checkpoint is the smallest.
    """
    if remaining_s <= 0:
        return False
    return rate is None or (rate > 0 and missing / rate <= remaining_s)


def fixed_rates_to_run(plan: BenchPlan, stress_sustained: float | None) -> list[float]:
    rates = set(plan.fixed_rates)
    if stress_sustained is not None:
        rates.add(stress_sustained)
    return sorted(rates)
