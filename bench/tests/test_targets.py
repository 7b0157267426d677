from __future__ import annotations

import pytest

from bench.results import CpuUse, Numbers, StepResult
from bench.targets import cpu_ms_per_request, shed, stack_cpu_share, target_rows

pytestmark = pytest.mark.unit


def step(
    scenario: str,
    rate: float | None,
    *,
    p50: float = 10,
    p95: float = 80,
    p99: float = 200,
    shed_503: int = 0,
    cpu: dict[str, float] | None = None,
) -> StepResult:
    achieved = rate or 20.0
    numbers = Numbers(
        requests=10_000,
        seconds=60,
        rps=achieved,
        p50_ms=p50,
        p95_ms=p95,
        p99_ms=p99,
        max_ms=p99 * 2,
        errors=shed_503,
        error_kinds={"HTTP 503 service_unavailable": shed_503} if shed_503 else {},
    )
    uses = cpu or {"gateway": 40.0, "orders": 30.0, "locust": 50.0, "steal": 5.0}
    return StepResult(
        scenario=scenario,
        label=f"{rate:g} req/s" if rate else "20 users",
        users=100,
        target_rate=rate,
        numbers=numbers,
        cpu={name: CpuUse(mean_pct=pct, max_pct=pct) for name, pct in uses.items()},
        sustained=True,
    )


def test_cpu_per_request_is_each_component_s_cpu_over_the_rate_locust_left_out() -> None:
    cost = cpu_ms_per_request(step("crowd", 200, cpu={"gateway": 40, "orders": 30, "locust": 80}))
    # 40% of a core is 400 ms of CPU a second, over 200 requests: 2 ms each.
    assert cost == {"gateway": 2.0, "orders": 1.5, "stack": 3.5}


def test_a_step_sheds_only_what_was_answered_503_and_the_stack_share_leaves_out_locust() -> None:
    busy = step("crowd", 400, shed_503=12, cpu={"gateway": 90, "postgres": 50, "locust": 60})
    assert shed(busy) == 12
    assert stack_cpu_share(busy, cores=2) == pytest.approx(0.7)


def test_each_target_is_checked_against_its_step() -> None:
    steps = [
        step("normal", None, p50=8),
        step("crowd", 25, p50=12),
        step("crowd", 200, p95=90, p99=240),
        step("crowd", 400, p95=450, shed_503=30, cpu={"gateway": 100, "orders": 70}),
    ]
    rows = target_rows(steps, cores=2)
    assert [row[-1] for row in rows] == ["yes", "yes", "yes", "yes", "yes"]

    slow_paced = [step("normal", None, p50=5), step("crowd", 25, p50=12)]
    assert target_rows(slow_paced, cores=2)[0][-1] == "**no**"  # 12 ms > twice 5 ms

    early = [step("crowd", 200, shed_503=5, cpu={"gateway": 50, "orders": 40})]
    [*_, shedding] = target_rows(early, cores=2)
    assert shedding[-1] == "**no**"
    assert "crowd 200 req/s (5 at 45%)" in shedding[2]
