"""The load scenarios as plans of steps, and when a step counts as sustained or broken.

Every scenario but one is a crowd (``bench.crowd``): people with accounts of their own, each
signed in once, a fifth of them admins, each with its role's request mix. Closed-loop scenarios
(normal, peak) are a number of them with a think time. Paced scenarios (the crowd's fixed
rates, the stress ramp) control the arrival rate: the crowd signs in, then each person starts a
request every ``users / rate`` seconds whatever the answers, so the offered rate is the step's
for as long as answers take less than that interval (then the step falls short of its target,
which counts against it). The one scenario apart is **one heavy admin**: a single session, paced
by Locust users that share it (``PACED_USER_RATE`` each), as close to the per-user limit as it
allows.
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
PACED_RATE = 25.0  # unloaded: its p50 should be the closed-loop normal step's
HIGH_RATE = 400.0


@dataclass(frozen=True)
class Step:
    label: str
    duration_s: float
    users: int
    spawn_rate: float
    target_rate: float | None  # None: closed loop
    warmup_s: float  # left out of the numbers: users still arriving
    stop_if_broken: bool = False


# The crowd's people sign in at this pace (each hashes a password at auth, on purpose) over
# 10 to 40 s before the first step counts.
CROWD_SIGN_INS_PER_S = 10.0
CROWD_SIGN_IN_S = 10.0
CROWD_SIGN_IN_MAX_S = 40.0
HEAVY_ADMIN_LIMIT_SHARE = 0.9  # of the per-user limit: the heaviest one person may ask


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
    return Scenario(name, "CrowdUser", (step,))


def sign_in_s(users: int) -> float:
    """How long a crowd of ``users`` takes to sign in."""
    return min(CROWD_SIGN_IN_MAX_S, max(CROWD_SIGN_IN_S, users / CROWD_SIGN_INS_PER_S))


def crowd(
    name: str, rates: list[tuple[float, float]], users: int, *, stop_if_broken: bool = False
) -> Scenario:
    """The crowd of ``users`` people at each ``(rate, seconds)`` in turn; the first step also
    holds their sign-in, which its numbers leave out."""
    steps = []
    signing_in_s = sign_in_s(users)
    for index, (rate, duration_s) in enumerate(rates):
        interval = users / rate  # each person's pacing
        sign_in = signing_in_s if index == 0 else 0.0
        steps.append(
            Step(
                label=f"{rate:g} req/s",
                duration_s=sign_in + duration_s,
                users=users,
                spawn_rate=users / signing_in_s,
                target_rate=rate,
                warmup_s=sign_in + min(interval, 5.0) + 1,
                stop_if_broken=stop_if_broken,
            )
        )
    return Scenario(name, "CrowdUser", tuple(steps))


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


def stress(rates: list[float], step_s: float, users: int) -> Scenario:
    """The crowd's arrival rate ramped step by step; the run ends at the first broken step."""
    return crowd("stress", [(rate, step_s) for rate in rates], users, stop_if_broken=True)


def heavy_admin(per_user_per_min: int, duration_s: float) -> Scenario:
    """One admin's session as busy as the per-user limit lets one person be."""
    rate = round(HEAVY_ADMIN_LIMIT_SHARE * per_user_per_min / 60, 1)
    step = replace(
        _rate_step(rate, 0, duration_s, stop=False), label=f"{rate:g} req/s, one session"
    )
    return Scenario("one heavy admin", "PacedAdmin", (step,))


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
    crowd_steps: tuple[tuple[float, float], ...]  # (req/s, seconds) of the crowd, in turn
    heavy_admin_s: float
    profile_s: float  # py-spy records the services this long, if it is installed,
    profile_rate: float  # with the crowd at this rate
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
    stress_rates=(50, 100, 200, 300, 400, 500, 650, 800, 1000, 1250),
    stress_step_s=15,
    crowd_steps=((PACED_RATE, 60), (BASELINE_RATE, 60), (HIGH_RATE, 30)),
    heavy_admin_s=60,
    profile_s=20,
    profile_rate=BASELINE_RATE,
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
        stress_rates=(5, 10, 20),
        stress_step_s=8,
        crowd_steps=((5, 10), (10, 10), (20, 8)),
        heavy_admin_s=10,
        profile_s=5,
        profile_rate=10,
        ingest_orders=300,
        single_orders=5,
        history_import_orders=500,
        read_samples=3,
        read_budget_s=10,
    )


def load_duration_bound_s(plan: BenchPlan) -> float:
    """The longest the load scenarios can take: every step, each crowd's sign-in included."""
    stress_s = plan.stress_step_s * len(plan.stress_rates) + CROWD_SIGN_IN_MAX_S
    crowd_s = sum(seconds for _, seconds in plan.crowd_steps) + CROWD_SIGN_IN_MAX_S
    profiled_s = CROWD_SIGN_IN_MAX_S + plan.profile_s + 10
    return plan.normal_s + plan.peak_s + stress_s + crowd_s + plan.heavy_admin_s + profiled_s


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
