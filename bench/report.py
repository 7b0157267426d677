"""``docs/BENCHMARKS.md`` and its plots, rendered from one run's results alone.

``python -m bench.report [results.json]`` re-renders the page and the plots from the stored
results without measuring again.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench import crowd, mix
from bench.export_memory import with_export_memory
from bench.history_import import WATCH_INTERVAL_S, WATCH_PAGE
from bench.method import METHOD
from bench.progress import format_duration
from bench.results import BenchResults, HistoryImport, Numbers, QueryPlans, StepResult
from bench.scenarios import (
    BASELINE_RATE,
    BREAK_ERROR_RATIO,
    BREAK_P95_MS,
    BREAK_RATE_SHARE,
    FULL_PLAN,
    HEAVY_ADMIN_LIMIT_SHARE,
    PACED_USER_RATE,
    SLO_ERROR_RATIO,
    SLO_P95_MS,
    SLO_RATE_SHARE,
    TARGET_RATE,
    highest_sustained_rate,
    load_duration_bound_s,
)
from bench.targets import cpu_ms_per_request, target_rows

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "BENCHMARKS.md"
RESULTS = REPO / "docs" / "bench" / "results.json"
LATENCY_PLOT = "latency-vs-arrival-rate.png"
READS_PLOT = "reads-vs-orders-stored.png"
QUERY_PLANS_PATH = "/internal/query-plans"


def _ms(value: float) -> str:
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.0f} ms"


def _kinds(numbers: Numbers, top: int = 3) -> str:
    if not numbers.error_kinds:
        return ""
    kinds = list(numbers.error_kinds.items())
    shown = ", ".join(f"{kind} x{count:,}" for kind, count in kinds[:top])
    return shown + (f", {len(kinds) - top} more kinds" if len(kinds) > top else "")


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _step_rows(steps: list[StepResult]) -> list[list[str]]:
    rows = []
    for step in steps:
        n = step.numbers
        verdict = "yes" if step.sustained else "no"
        if step.broken:
            verdict += f" (broke: {step.broken})"
        rows.append(
            [
                step.scenario,
                step.label,
                f"{step.users:,}",
                f"{step.target_rate:g}" if step.target_rate is not None else "closed loop",
                f"{n.rps:,.1f}",
                _ms(n.p50_ms),
                _ms(n.p95_ms),
                _ms(n.p99_ms),
                f"{n.errors:,} ({n.error_ratio:.1%})",
                _kinds(n),
                verdict,
            ]
        )
    return rows


def _host_reference(reference_ms: list[float]) -> list[str]:
    """How fast the host ran Python around the load scenarios, to compare runs by."""
    if len(reference_ms) != 2:
        return []
    before, after = reference_ms
    return [
        f"How fast the host ran Python: a fixed piece of work (`bench.cpu.reference_work`, JSON "
        f"and hashing of order-sized documents) took {before:g} ms of CPU before the load "
        f"scenarios and {after:g} ms after them, on the interpreter in the machine table. This "
        "shared host runs the same code 25-30% slower in a slow hour: compare two runs' CPU "
        "figures beside their reference times, measured on the same interpreter build.",
        "",
    ]


def _cpu_table(steps: list[StepResult]) -> str:
    components = sorted({name for step in steps for name in step.cpu})
    rows = [
        [step.scenario, step.label]
        + [
            f"{step.cpu[c].mean_pct:.0f} / {step.cpu[c].max_pct:.0f}" if c in step.cpu else ""
            for c in components
        ]
        for step in steps
    ]
    return _table(["scenario", "step", *components], rows)


def _cpu_per_request_table(steps: list[StepResult]) -> str:
    costs = [cpu_ms_per_request(step) for step in steps]
    components = sorted({name for cost in costs for name in cost} - {"stack"})
    rows = [
        [step.scenario, step.label, f"{step.numbers.rps:,.1f}"]
        + [f"{cost[c]:.2f}" if c in cost else "" for c in [*components, "stack"]]
        for step, cost in zip(steps, costs, strict=True)
    ]
    return _table(["scenario", "step", "achieved req/s", *components, "stack"], rows)


def _request_table(step: StepResult) -> str:
    rows = [
        [name, f"{n.requests:,}", _ms(n.p50_ms), _ms(n.p95_ms), _ms(n.p99_ms), f"{n.errors:,}"]
        for name, n in sorted(step.by_request.items(), key=lambda item: -item[1].requests)
    ]
    return _table(["request", "requests", "p50", "p95", "p99", "errors"], rows)


def _mix_table() -> str:
    """Each request kind's share for a viewer, an admin, the crowd as a whole, and the one heavy
    admin."""

    def role_shares(kinds: tuple[mix.RequestKind, ...]) -> dict[str, float]:
        total = sum(kind.weight for kind in kinds)
        return {kind.name: kind.weight / total for kind in kinds}

    viewer, admin = role_shares(mix.VIEWER_MIX), role_shares(mix.ADMIN_MIX)
    crowd, heavy = mix.crowd_shares(), mix.shares()

    def cell(shares: dict[str, float], name: str) -> str:
        return f"{shares[name]:.1%}" if shares.get(name) else "-"

    rows = [
        [kind.name, cell(viewer, kind.name), cell(admin, kind.name), cell(crowd, kind.name),
         cell(heavy, kind.name), kind.what]
        for kind in mix.MIX
    ]  # fmt: skip
    return _table(["request", "viewer", "admin", "crowd", "one heavy admin", "what"], rows)


def _sustained_sentence(steps: list[StepResult]) -> str:
    best = highest_sustained_rate(steps)
    tried = any((s.target_rate or 0) >= TARGET_RATE for s in steps)
    target = f"the target of {TARGET_RATE:g} req/s" + ("" if tried else " (not tried in this run)")
    if best is None:
        return (
            "No paced step met the targets, so this run sustained no arrival rate; the table "
            f"shows where each one fell short of {target}."
        )
    verdict = "meets" if best >= TARGET_RATE else "falls short of"
    return f"Highest arrival rate sustained: **{best:g} req/s**, which {verdict} {target}."


def query_plans_section(plans: QueryPlans | None) -> str:
    """The orders service's EXPLAIN ANALYZE of each list, search and stats query shape.

    Renders what the run got from ``GET /internal/query-plans`` or ``orders-explain-queries``:
    a list (or ``{"plans": [...]}``) of ``{name|shape, query?, plan, timingMs?}`` objects, a
    ``{shape: plan}`` object, or plain text. Without plans it says how to get them instead.
    """
    heading = "## Query plans of the orders service\n\n"
    if plans is None or plans.status != "ok":
        why = f"{plans.source}: {plans.status}" if plans else "not asked"
        return heading + (
            f"This run got no query plans from the orders service ({why}). They are its "
            "EXPLAIN ANALYZE of each list, search and stats query shape: with the stack up, "
            f"`.venv/bin/orders-explain-queries` (in the services' environment) or `curl -s "
            f"http://127.0.0.1:8002{QUERY_PLANS_PATH}` prints them, and `make bench` includes "
            "them here.\n"
        )
    body = plans.body
    intro = (
        f"From `{plans.source}` at the end of the run, with "
        "the bench's orders stored; execution times as the plans reported them.\n\n"
    )
    if isinstance(body, dict) and isinstance(body.get("plans"), list):
        body = body["plans"]
    if isinstance(body, list):
        return heading + intro + _timing_table(body) + "\n".join(map(_plan_entry, body))
    if isinstance(body, dict):
        entries = [{"name": name, "plan": plan} for name, plan in body.items()]
        return heading + intro + "\n".join(_plan_entry(entry) for entry in entries)
    return heading + intro + f"```\n{body}\n```\n"


def _timing_table(entries: list[object]) -> str:
    """Every shape's execution time at a glance, when the plans report them."""
    rows = [
        [str(e.get("name") or e.get("shape")), f"{e['timingMs']:g} ms"]
        for e in entries
        if isinstance(e, dict) and isinstance(e.get("timingMs"), int | float)
    ]
    return _table(["query shape: statement", "execution time"], rows) + "\n\n" if rows else ""


def _plan_entry(entry: object) -> str:
    if not isinstance(entry, dict):
        return f"```\n{json.dumps(entry, indent=2)}\n```\n"
    name = entry.get("name") or entry.get("shape") or "query"
    parts = [f"### {name}\n"]
    timing = entry.get("timing") or entry.get("timingMs") or entry.get("executionTimeMs")
    if timing is not None:
        parts.append(f"Timing: {timing}{' ms' if isinstance(timing, int | float) else ''}\n")
    query = entry.get("query")
    if isinstance(query, str) and query.lstrip().startswith("{"):
        parts.append(f"List query: `{query}`\n")  # the API's parameters, not SQL
    elif query:
        parts.append(f"```sql\n{query}\n```\n")
    plan = entry.get("plan", entry)
    if isinstance(plan, list) and all(isinstance(line, str) for line in plan):
        plan = "\n".join(plan)
    text = plan if isinstance(plan, str) else json.dumps(plan, indent=2)
    parts.append(f"```\n{text}\n```\n")
    return "\n".join(parts)


def render(results: BenchResults) -> str:
    """The whole of docs/BENCHMARKS.md for ``results``."""
    m = results.machine
    phases = ", ".join(
        f"{name} {format_duration(seconds)}" for name, seconds in results.phase_seconds.items()
    )
    parts = [
        "# Benchmarks",
        "",
        f"Measured by `{results.command}` on {results.started_at}, {results.plan}. The run "
        f"took {format_duration(results.runtime_s)} ({phases}). Every figure below comes from "
        "`docs/bench/results.json`; `.venv/bin/python -m bench.report` renders this page and "
        "its plots again from it.",
        "",
        "## Machine",
        "",
        _table(
            ["cores", "memory", "CPU", "OS", "kernel", "Python", "Locust"],
            [
                [
                    str(m.cores),
                    f"{m.memory_gib:g} GiB",
                    m.cpu_model,
                    m.os,
                    m.kernel,
                    m.python,
                    m.locust,
                ]
            ],
        ),
        "",
        "The load generator runs on the same machine and competes with the stack for its "
        "cores; its own CPU is the `locust` column of the CPU table.",
        "",
        "## How it was run",
        "",
        "```bash",
        "make up                  # the local stack, in the background",
        "make demo-data N=10000   # optional: a four-week history at the three channels",
        "make bench               # this page (python -m bench.run)",
        "```",
        "",
        f"- How long `make bench` takes: filling to {FULL_PLAN.target_orders:,} orders stops "
        f"after at most {format_duration(FULL_PLAN.fill_budget_s)} (it gets there when the "
        f"pipeline stores about {FULL_PLAN.target_orders / FULL_PLAN.fill_budget_s:,.0f} "
        "orders/s or more; otherwise the page says where it stopped), the load scenarios take "
        f"at most {format_duration(load_duration_bound_s(FULL_PLAN))}, the ingest run and the "
        "single orders a few minutes more: 20 to 25 minutes from an empty store.",
        f"- Rate limits during the run: {results.rate_limits}.",
        f"- Orders stored: {results.store_size_at_start:,} at the start, "
        f"{results.store_size_at_end:,} at the end.",
        "- **The crowd** (every scenario but one): people with accounts of their own "
        f"({crowd.CROWD_SIZE} or more, so that none asks more than "
        f"{crowd.PER_USER_LIMIT_SHARE:.0%} of the per-user limit; a fifth of them admins), "
        "each signed in once with its own session, refreshing its access token when it is due "
        "and making its role's requests (the mix below). Closed-loop scenarios (normal, peak) "
        "are that many people each sending a request 0.5 to 1.5 s after the previous answer. "
        "Paced scenarios (the crowd's fixed rates, the stress ramp) control the arrival rate: "
        "each person starts a request every people/rate seconds whatever the answers (from a "
        "random first instant, so the crowd's requests spread evenly), so a step falls short "
        "of its rate only when answers are slower than that.",
        "- **One heavy admin**, a real case of its own and labelled so: one session, its "
        f"requests started by Locust users sharing it at {PACED_USER_RATE:g} req/s each, at "
        f"{HEAVY_ADMIN_LIMIT_SHARE:.0%} of the per-user limit (the most one person may ask), "
        "with the admin mix of the last column below (status moves included: each of its writes "
        "marks that admin's cached lists stale, so most of its list reads are cache misses).",
        f"- A step is **sustained** when p95 ≤ {SLO_P95_MS:g} ms, errors ≤ "
        f"{SLO_ERROR_RATIO:.0%} and at least {SLO_RATE_SHARE:.0%} of the asked rate was "
        f"achieved (the seed's targets). The stress ramp stops at the first **broken** step: "
        f"p95 > {BREAK_P95_MS / 1000:g} s, errors > {BREAK_ERROR_RATIO:.0%}, or under "
        f"{BREAK_RATE_SHARE:.0%} of the asked rate.",
        "- Numbers leave out each step's first seconds while users are still arriving; "
        "percentiles are nearest-rank over every request, failed ones included.",
        "",
        "The request mix, share of each role's requests (the crowd: a fifth admins):",
        "",
        _mix_table(),
        "",
        "## Load: numbers per scenario and step",
        "",
        _table(
            [
                "scenario",
                "step",
                "users",
                "target req/s",
                "achieved req/s",
                "p50",
                "p95",
                "p99",
                "errors",
                "error kinds",
                "sustained",
            ],
            _step_rows(results.steps),
        ),
        "",
        _sustained_sentence(results.steps),
        "",
        "The load targets (issue 26), checked against this run's steps:",
        "",
        _table(["step", "target", "measured", "met"], target_rows(results.steps, m.cores)),
        "",
        f"![Latency percentiles against arrival rate](bench/{LATENCY_PLOT})",
        "",
        "CPU of each component during each step, mean / max in percent of one core "
        f"({m.cores} cores = {100 * m.cores}%); `steal` is CPU the hypervisor gave to other "
        "virtual machines while this one wanted it, so every figure of a step was measured on "
        "what was left:",
        "",
        _cpu_table(results.steps),
        "",
        "Milliseconds of CPU per request answered, per component and across the stack (the "
        "load generator and `steal` left out): each component's mean CPU over the step divided "
        "by the step's achieved rate, so a component's fixed background work (Kafka, the "
        "relay) is spread over the requests and weighs most at low rates:",
        "",
        _cpu_per_request_table(results.steps),
        "",
        *_host_reference(results.host_reference_ms),
    ]
    baseline = _step_for_request_table(results.steps)
    if baseline is not None:
        parts += [
            f"Per request kind at {baseline.scenario} ({baseline.label}):",
            "",
            _request_table(baseline),
            "",
        ]
    parts += _profile_lines(results)
    parts += [METHOD, ""]
    parts += _ingest_lines(results)
    parts += _reads_lines(results)
    parts += [query_plans_section(results.query_plans)]
    if results.notes:
        parts += ["## Notes", "", *[f"- {note}" for note in results.notes], ""]
    return "\n".join(parts)


def _profile_lines(results: BenchResults) -> list[str]:
    if not results.profiles:
        return []
    rows = [
        [service, *(f"{name}: {share:.0%}" for name, share in top)]
        if top
        else [service, "no busy samples"]
        for service, top in sorted(results.profiles.items())
    ]
    return [
        "Where each service's CPU goes with the crowd at the profiled rate "
        f"({FULL_PLAN.profile_rate:g} req/s in the full plan; `py-spy`, a separate run of that "
        "step, its numbers not kept): the three functions with the most own time, as a share of "
        "the service's busy samples:",
        "",
        _table(["service", "first", "second", "third"], [[*row, "", "", ""][:4] for row in rows]),
        "",
    ]


def _step_for_request_table(steps: list[StepResult]) -> StepResult | None:
    """The fixed 200 req/s step, else the fastest sustained paced step (a fixed-rate one before
    the stress ramp's), else the first paced step."""
    paced = [s for s in steps if s.target_rate is not None]
    sustained = [s for s in paced if s.sustained]
    return next(
        (s for s in paced if s.target_rate == BASELINE_RATE and s.scenario != "stress"),
        max(sustained, key=lambda s: (s.target_rate or 0.0, s.scenario != "stress"))
        if sustained
        else None,
    ) or (paced[0] if paced else None)


def _ingest_lines(results: BenchResults) -> list[str]:
    lines = ["## Ingest", ""]
    if results.ingest is not None:
        run = results.ingest
        outcome = "all visible through the API" if run.completed else "NOT all visible"
        lines.append(
            f"- Ingest run: {run.orders:,} new orders created at the channels, {outcome} after "
            f"{format_duration(run.seconds)} ({run.rate:,.1f} orders/s), measured from the "
            "first create call to the first count that included them all."
        )
    if results.new_order_latency is not None:
        latency = results.new_order_latency
        lines.append(
            f"- One new order, created at a channel and searched for by its external id "
            f"until found, {len(latency.samples_ms)} times: p50 {_ms(latency.p50_ms)}, p95 "
            f"{_ms(latency.p95_ms)}, max {_ms(latency.max_ms)}"
            + (f"; {latency.timeouts} never showed up within 60 s" if latency.timeouts else "")
            + "."
        )
    if results.history_import is not None:
        busy = results.history_import
        outcome = (
            f"every order in its final status after {format_duration(busy.settled_s)}"
            if busy.settled
            else f"NOT settled: {busy.failure}"
        )
        lines.append(
            f"- History import (the busy day): {busy.orders:,} orders of the last four weeks "
            f"with their status changes, stored after {format_duration(busy.stored_s)}, "
            f"{outcome}; meanwhile {busy.live_orders:,} live orders ({busy.live_rate:g} a second) "
            f"were visible through the API after p50 {_ms(busy.live_p50_ms)}, p95 "
            f"{_ms(busy.live_p95_ms)}, max {_ms(busy.live_max_ms)}"
            + (f", {busy.live_never_visible} never" if busy.live_never_visible else "")
            + " (targets: p95 under 5 s, settled within 10 minutes for 100,000). A second user "
            f"looked for them every {WATCH_INTERVAL_S:g} s, {WATCH_PAGE} orders at a time, "
            "reading in turn the newest orders and, one channel at a time, that channel's orders "
            "placed since its oldest live order still unseen, oldest first (the history is "
            "placed in the past)"
            + (
                f"; {busy.live_watch_refused} of its reads were refused (429)"
                if busy.live_watch_refused
                else ""
            )
            + "."
            + (
                f" These figures come from a run of this scenario alone ({busy.run_apart}), "
                "after the run above, not from the run itself."
                if busy.run_apart
                else ""
            )
        )
    if results.fill is not None:
        fill = results.fill
        lines.append(
            f"- Filling the store: {fill.orders:,} orders with their history in "
            f"{format_duration(fill.seconds)} ({fill.rate:,.1f} orders/s)."
        )
    return [*lines, ""]


# Read shapes named so are deep pages (bench.run.deep_page_name): a table of their own.
DEEP_PAGE_PREFIX = "deep: "
_DEEP_PAGE_COLUMNS = ("1", "100", "1,000", "last")


def _deep_pages_lines(results: BenchResults) -> list[str]:
    """Per store size and sort: page 1, 100, 1,000 and the last, p50 / p95 (requests)."""
    rows = []
    for point in results.read_latency:
        deep = {
            name.removeprefix(DEEP_PAGE_PREFIX): n
            for name, n in point.series.items()
            if name.startswith(DEEP_PAGE_PREFIX)
        }
        sorts = sorted({name.split(" page ")[0] for name in deep})
        for sort_by in sorts:
            cells = [f"{point.store_size:,}", f"`{sort_by}`"]
            for page in _DEEP_PAGE_COLUMNS:
                n = deep.get(f"{sort_by} page {page}")
                cells.append(f"{_ms(n.p50_ms)} / {_ms(n.p95_ms)} ({n.requests})" if n else "")
            rows.append(cells)
    if not rows:
        return []
    return [
        "Deep pages of the whole list, 20 orders a page, by cursor as the SPA reaches them "
        "(the page before hands out the cursor; the last page by `lastCursor`): p50 / p95 "
        "(requests).",
        "",
        _table(["orders stored", "sort", *(f"page {p}" for p in _DEEP_PAGE_COLUMNS)], rows),
        "",
    ]


def _reads_lines(results: BenchResults) -> list[str]:
    if not results.read_latency:
        return []
    names = sorted(
        {
            name
            for point in results.read_latency
            for name in point.series
            if not name.startswith(DEEP_PAGE_PREFIX)
        }
    )
    rows = []
    for point in results.read_latency:
        cells = [f"{point.store_size:,}"]
        for name in names:
            n = point.series.get(name)
            cells.append(f"{_ms(n.p50_ms)} / {_ms(n.p95_ms)} ({n.requests})" if n else "")
        rows.append(cells)
    first = results.read_latency[0].store_size
    lines = [
        "## Reads against orders stored",
        "",
        "Uncached reads (each with a `from` filter the gateway's cache has not seen, matching "
        "every order), one at a time after one unmeasured warm-up read, as the store was "
        "filled: p50 / p95 (requests).",
        "",
        _table(["orders stored", *names], rows),
        "",
        *_deep_pages_lines(results),
    ]
    if first > 1000:
        lines += [
            f"The store already held {first:,} orders when the run began, so the smaller "
            "sizes could not be measured; an empty store (a fresh `.data/`) gives the full "
            "curve.",
            "",
        ]
    return [*lines, f"![Read latency against orders stored](bench/{READS_PLOT})", ""]


def _scale_for(values: list[float]) -> str:
    """Logarithmic where the values span ten times or more, so every point stays readable."""
    positive = [value for value in values if value > 0]
    return "log" if positive and max(positive) >= 10 * min(positive) else "linear"


def plot(results: BenchResults, plots_dir: Path) -> None:
    """Writes the two PNG plots of the page into ``plots_dir``."""
    # Imported here: matplotlib takes a second to load, and only plotting needs it.
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.ticker import FuncFormatter

    plain = FuncFormatter(lambda value, _: f"{value:,.0f}")
    plots_dir.mkdir(parents=True, exist_ok=True)

    figure, axes = plt.subplots(figsize=(8, 4.5))
    ramp = [s for s in results.steps if s.scenario == "stress" and s.target_rate is not None]
    fixed = [s for s in results.steps if s.scenario != "stress" and s.target_rate is not None]
    for label, value in (
        ("p50", lambda n: n.p50_ms),
        ("p95", lambda n: n.p95_ms),
        ("p99", lambda n: n.p99_ms),
    ):
        line = axes.plot(
            [s.target_rate or 0.0 for s in ramp],
            [value(s.numbers) for s in ramp],
            marker="o",
            label=f"{label} (stress ramp)",
        )
        axes.scatter(
            [s.target_rate or 0.0 for s in fixed],
            [value(s.numbers) for s in fixed],
            marker="s",
            s=60,
            color=line[0].get_color(),
            edgecolors="black",
            label=f"{label} (fixed-rate step)",
        )
    axes.axhline(SLO_P95_MS, color="grey", linestyle=":", label=f"p95 target {SLO_P95_MS:g} ms")
    paced = ramp + fixed
    spread = [n for s in paced for n in (s.numbers.p50_ms, s.numbers.p99_ms)]
    axes.set(xlabel="arrival rate (req/s)", ylabel="latency (ms)", yscale=_scale_for(spread))
    axes.yaxis.set_major_formatter(plain)
    axes.set_title("Latency against arrival rate")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(plots_dir / LATENCY_PLOT, dpi=110)
    plt.close(figure)

    figure, axes = plt.subplots(figsize=(8, 4.5))
    names = sorted(
        {
            name
            for point in results.read_latency
            for name in point.series
            if not name.startswith(DEEP_PAGE_PREFIX)  # their own table, not the plot
        }
    )
    for name in names:
        points = [(p.store_size, p.series[name]) for p in results.read_latency if name in p.series]
        sizes = [size for size, _ in points]
        line = axes.plot(sizes, [n.p50_ms for _, n in points], marker="o", label=f"{name} p50")
        axes.plot(
            sizes,
            [n.p95_ms for _, n in points],
            linestyle="--",
            color=line[0].get_color(),
            label=f"{name} p95",
        )
    latencies = [
        value
        for point in results.read_latency
        for n in point.series.values()
        for value in (n.p50_ms, n.p95_ms)
    ]
    axes.set(
        xlabel="orders stored",
        ylabel="latency (ms)",
        xscale=_scale_for([p.store_size for p in results.read_latency]),
        yscale=_scale_for(latencies),
    )
    for axis in (axes.xaxis, axes.yaxis):
        axis.set_major_formatter(plain)
        axis.set_minor_formatter(FuncFormatter(lambda value, _: ""))
    axes.set_title("Uncached read latency against orders stored")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(plots_dir / READS_PLOT, dpi=110)
    plt.close(figure)


def write(results: BenchResults, doc: Path = DOC) -> None:
    """Writes the page, its plots and the results they come from (plots in ``bench/`` beside it)."""
    plots_dir = doc.parent / "bench"
    plots_dir.mkdir(parents=True, exist_ok=True)
    (plots_dir / RESULTS.name).write_text(results.model_dump_json(indent=1) + "\n")
    plot(results, plots_dir)
    doc.write_text(with_export_memory(render(results)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.report", description=__doc__)
    parser.add_argument("results", nargs="?", type=Path, default=RESULTS)
    parser.add_argument("--doc", type=Path, default=DOC, help="the page to write")
    parser.add_argument(
        "--history-import",
        type=Path,
        help="the figures `python -m bench.run --only history-import` printed (JSON): they "
        "replace the run's own in the results, marked as a run apart (--run-apart says which)",
    )
    parser.add_argument("--run-apart", default="", help="that run's command and time")
    args = parser.parse_args(argv)
    results = BenchResults.model_validate_json(args.results.read_text())
    if args.history_import is not None:
        if not args.run_apart:
            parser.error("--history-import needs --run-apart (the run's command and time)")
        apart = HistoryImport.model_validate_json(args.history_import.read_text())
        apart = apart.model_copy(update={"run_apart": args.run_apart})
        results = results.model_copy(update={"history_import": apart})
        args.results.write_text(results.model_dump_json(indent=1) + "\n")
    plot(results, args.doc.parent / "bench")
    args.doc.write_text(with_export_memory(render(results)))
    print(f"wrote {args.doc} and its plots from {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
