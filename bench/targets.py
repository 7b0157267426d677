"""The load targets a run is held to, checked against its steps, for docs/BENCHMARKS.md.

The crowd at 200 req/s for 60 s: p95 under 100 ms, p99 under 250 ms, under 0.1% errors; at 400
req/s for 30 s: p95 under 500 ms, under 1% errors; the paced 25 req/s step's median within twice
the closed-loop normal step's; no step shedding (503s) while the stack's CPU is under 80% of the
machine; at most 4 ms of the stack's CPU per request at 200 req/s.
"""

from __future__ import annotations

from bench.results import StepResult

SHED_CPU_SHARE = 0.8
CPU_BUDGET_MS = 4.0
# Not the stack's: the load generator, and CPU the hypervisor gave to other machines.
NOT_THE_STACK = frozenset({"locust", "steal"})


def cpu_ms_per_request(step: StepResult) -> dict[str, float]:
    """Milliseconds of CPU each of the stack's components spent per request answered in the
    step (its mean share of a core over the step's rate), and ``stack``, their sum."""
    if step.numbers.rps <= 0:
        return {}
    per_request = {
        name: 10 * use.mean_pct / step.numbers.rps  # percent of a core: 1% = 10 ms per second
        for name, use in step.cpu.items()
        if name not in NOT_THE_STACK
    }
    return {**per_request, "stack": sum(per_request.values())}


def stack_cpu_share(step: StepResult, cores: int) -> float:
    """The stack's mean CPU during the step as a share of the whole machine."""
    busy = sum(use.mean_pct for name, use in step.cpu.items() if name not in NOT_THE_STACK)
    return busy / (100 * cores)


def shed(step: StepResult) -> int:
    """Requests answered 503 in the step."""
    return sum(n for kind, n in step.numbers.error_kinds.items() if kind.startswith("HTTP 503"))


def _find(steps: list[StepResult], scenario: str, rate: float | None) -> StepResult | None:
    return next((s for s in steps if s.scenario == scenario and s.target_rate == rate), None)


def _ms(value: float) -> str:
    return f"{value:.0f} ms"


def target_rows(steps: list[StepResult], cores: int) -> list[list[str]]:
    """One row per target: what it asks, what the run measured, whether it was met."""
    rows: list[list[str]] = []

    def row(what: str, asked: str, measured: str, met: bool) -> None:
        rows.append([what, asked, measured, "yes" if met else "**no**"])

    at200, at400 = _find(steps, "crowd", 200), _find(steps, "crowd", 400)
    paced = _find(steps, "crowd", 25)
    normal = next((s for s in steps if s.scenario == "normal"), None)
    if at200 is not None:
        n = at200.numbers
        row(
            "crowd, 200 req/s",
            "p95 < 100 ms, p99 < 250 ms, errors < 0.1%",
            f"p95 {_ms(n.p95_ms)}, p99 {_ms(n.p99_ms)}, errors {n.error_ratio:.2%}",
            n.p95_ms < 100 and n.p99_ms < 250 and n.error_ratio < 0.001,
        )
        cost = cpu_ms_per_request(at200).get("stack", 0.0)
        row(
            "crowd, 200 req/s",
            f"at most {CPU_BUDGET_MS:g} ms of CPU per request across the stack",
            f"{cost:.2f} ms",
            0 < cost <= CPU_BUDGET_MS,
        )
    if at400 is not None:
        n = at400.numbers
        row(
            "crowd, 400 req/s",
            "p95 < 500 ms, errors < 1%",
            f"p95 {_ms(n.p95_ms)}, errors {n.error_ratio:.2%}",
            n.p95_ms < 500 and n.error_ratio < 0.01,
        )
    if paced is not None and normal is not None:
        row(
            "crowd, 25 req/s",
            "p50 within twice the closed-loop normal step's",
            f"p50 {_ms(paced.numbers.p50_ms)} (normal: {_ms(normal.numbers.p50_ms)})",
            paced.numbers.p50_ms <= 2 * normal.numbers.p50_ms,
        )
    early = [
        f"{s.scenario} {s.label} ({shed(s):,} at {stack_cpu_share(s, cores):.0%})"
        for s in steps
        if shed(s) and stack_cpu_share(s, cores) < SHED_CPU_SHARE
    ]
    row(
        "every step",
        f"no 503 while the stack's CPU is under {SHED_CPU_SHARE:.0%} of the machine",
        "; ".join(early) if early else "none",
        not early,
    )
    return rows
