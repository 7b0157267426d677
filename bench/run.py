"""``make bench``: load and ingest benchmarks of the local stack, written to docs/BENCHMARKS.md.

In order: the store is filled to 100,000 orders with the demo-data history (uncached read
latency measured at 1k, 10k, 50k and 100k on the way, or at whatever it already holds; filling
stops short, and the page says so, when the pipeline cannot get there within the fill budget); the
crowd's accounts are made ready; the load scenarios run through Locust (the crowd closed-loop at
normal and peak, the crowd at 25, 200 and 400 req/s, one heavy admin, the crowd's stress ramp);
10,000 new orders are timed from the channels to the API; one new order is timed 20 times; the
orders service's query plans are fetched. The gateway, auth and orders run with the bench profile
(per-address rate limits raised, since all the load comes from one address; per-user limits as
configured) throughout and are restored afterwards, also on failure or Ctrl-C. Every request goes
to 127.0.0.1; every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, closing, contextmanager, nullcontext, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench import report
from bench.api import ApiError, OrderHub, StackNotUpError, wait_out_rate_limit
from bench.cpu import CpuSampler, reference_work_ms
from bench.crowd import crowd_size, ensure_crowd
from bench.demo_data import DeliveryError, deliver, history_plan, new_orders_plan
from bench.history_import import history_import
from bench.machine import this_machine
from bench.mix import CHANNELS, name_fragment
from bench.profiles import PROFILED, py_spy, record
from bench.progress import format_duration
from bench.results import (
    BenchResults,
    Fill,
    HistoryImport,
    IngestRun,
    NewOrderLatency,
    QueryPlans,
    ReadLatency,
    StepResult,
)
from bench.scenarios import (
    FULL_PLAN,
    BenchPlan,
    Scenario,
    closed_loop,
    crowd,
    fill_checkpoints,
    heavy_admin,
    is_sustained,
    next_fill_fits,
    quick_plan,
    stress,
)
from bench.stack import BENCH_ENV, LocalStack, bench_profile, local_stack
from bench.stats import Sample, in_window, numbers, numbers_by_name, percentile

REPO = Path(__file__).resolve().parents[1]
WORK_DIR = REPO / ".run" / "bench"
LOCUST = Path(sys.executable).with_name("locust")
EXPLAIN_COMMAND = Path(sys.executable).with_name("orders-explain-queries")
LOCUST_GRACE_S = 60  # past its plan, a Locust run is stopped
LOCUST_START_S = 3  # from starting the Locust process to its first user
NEW_ORDER_TIMEOUT_S = 60.0


DEEP_PAGE_SORTS = ("placedAt", "total", "status", "channel", "updatedAt")
DEEP_PAGES = (100, 1000)


def deep_page_name(sort_by: str, page: str) -> str:
    """A deep page's read shape; the report gives these a table of their own."""
    return f"{report.DEEP_PAGE_PREFIX}{sort_by} page {page}"


class LoadRunError(RuntimeError):
    pass


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name).strip("-")


class BenchRun:
    def __init__(self, hub: OrderHub, stack: LocalStack, plan: BenchPlan) -> None:
        self.hub = hub
        self.stack = stack
        self.plan = plan
        self.rng = random.Random()  # noqa: S311 - picks simulated data, not secrets
        self.notes: list[str] = []
        self.phase_seconds: dict[str, float] = {}
        self.crowd: list[dict[str, str]] = []
        self.profiles: dict[str, list[tuple[str, float]]] = {}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        print(f"==> bench: {name}", flush=True)
        started = time.monotonic()
        try:
            yield
        finally:
            self.phase_seconds[name] = round(time.monotonic() - started, 1)
            print(f"==> bench: {name} done in {format_duration(self.phase_seconds[name])}")

    # Reads against orders stored -------------------------------------------------------------
    def measure_reads(self, fragment: str) -> ReadLatency:
        """Uncached latency of each read shape, one request at a time, at today's store size,
        after one unmeasured warm-up read."""
        size = self.hub.stored_total()
        shapes: dict[str, tuple[str, dict[str, Any]]] = {
            "list newest": ("/orders", {"limit": 20}),
            "list channel+status": (
                "/orders",
                {"channel": "amazon", "status": "DELIVERED", "limit": 20},
            ),
            f"search {fragment!r}": ("/orders", {"search": fragment, "limit": 20}),
            "stats": ("/orders/stats", {}),
            **self.deep_page_shapes(),
        }
        series = {}
        for name, (path, params) in shapes.items():
            # One unmeasured read first: after a restart the first pays for cold connections.
            with suppress(httpx.HTTPError):
                self.hub.get(path, params)
            samples: list[Sample] = []
            started = time.monotonic()
            while (
                len(samples) < self.plan.read_samples
                and time.monotonic() - started < self.plan.read_budget_s
            ):
                at, clock = time.time(), time.perf_counter()
                kind: str | None
                try:
                    response = self.hub.get(path, params, wait_out_limits=False)
                except httpx.HTTPError as exc:
                    kind = type(exc).__name__
                else:
                    if response.status_code == 429:
                        # The bench's own user over its limit: the wait is no read's latency.
                        wait_out_rate_limit(response)
                        started += time.perf_counter() - clock
                        continue
                    kind = None if response.status_code == 200 else f"HTTP {response.status_code}"
                samples.append(Sample(at, (time.perf_counter() - clock) * 1000, name, kind))
            series[name] = numbers(samples, time.monotonic() - started)
        print(
            f"    reads at {size:,} orders: "
            + ", ".join(f"{name} p50 {n.p50_ms:.0f} ms" for name, n in series.items())
        )
        return ReadLatency(store_size=size, series=series)

    def deep_page_shapes(self) -> dict[str, tuple[str, dict[str, Any]]]:
        """Page 1, 100, 1,000 and the last of the whole list under each sort, 20 orders a page,
        as the SPA reaches them: by the cursor the page before hands out (one unmeasured
        numbered read finds it) and by the list's ``lastCursor``."""
        shapes: dict[str, tuple[str, dict[str, Any]]] = {}
        for sort_by in DEEP_PAGE_SORTS:
            base = {"sortBy": sort_by, "limit": 20}
            first = self.hub.get_json("/orders", base)["pagination"]
            shapes[deep_page_name(sort_by, "1")] = ("/orders", base)
            for depth in DEEP_PAGES:
                if depth > first["totalPages"]:
                    continue
                before = self.hub.get_json("/orders", {**base, "page": depth - 1})["pagination"]
                if before.get("nextCursor"):
                    cursor = {**base, "cursor": before["nextCursor"]}
                    shapes[deep_page_name(sort_by, f"{depth:,}")] = ("/orders", cursor)
            if first.get("lastCursor"):
                last = {**base, "cursor": first["lastCursor"]}
                shapes[deep_page_name(sort_by, "last")] = ("/orders", last)
        return shapes

    def fill(self) -> tuple[Fill | None, list[ReadLatency]]:
        """Fills the store through the plan's checkpoints, measuring reads at each, and stops
        short of the target when the pipeline is too slow to get there within the fill budget.
        """
        newest = self.hub.list_orders(limit=1)
        name = newest[0]["customer"]["name"] if newest else "Sharma"
        fragment = name_fragment(name, self.rng)
        reads = [self.measure_reads(fragment)]
        deadline = time.monotonic() + self.plan.fill_budget_s
        created, seconds, rate = 0, 0.0, None
        for checkpoint in fill_checkpoints(reads[0].store_size, self.plan):
            stored = self.hub.stored_total()
            missing = checkpoint - stored
            if missing <= 0:
                continue
            if not next_fill_fits(missing, rate, deadline - time.monotonic()):
                self.notes.append(
                    f"Filling stopped at {stored:,} orders, short of {self.plan.target_orders:,}: "
                    f"at the {rate or 0:,.1f} orders/s the pipeline managed, {missing:,} more "
                    f"would not arrive within the fill budget of "
                    f"{format_duration(self.plan.fill_budget_s)}."
                )
                break
            batches = history_plan(missing, datetime.now(UTC))
            try:
                done = deliver(self.hub, batches, self.rng, label=f"filling to {checkpoint:,}")
            except DeliveryError as exc:
                self.notes.append(f"Filling stopped at {checkpoint:,}: {exc}")
                break
            created, seconds, rate = created + done.orders, seconds + done.seconds, done.rate
            reads.append(self.measure_reads(fragment))
        if not created:
            return None, reads
        return Fill(orders=created, seconds=seconds, rate=round(created / seconds, 1)), reads

    # Load ------------------------------------------------------------------------------------
    def _run_file(self, scenario: Scenario, samples_file: Path) -> dict[str, Any]:
        """What the Locust process starts from: plan, signed-in tokens, credentials, orders."""
        sessions = [self.hub.sign_in(self.stack.admin) for _ in range(3)]
        orders = self.hub.list_orders(limit=100)
        orders += self.hub.list_orders(status=["PLACED", "CONFIRMED", "SHIPPED"], limit=100)
        return {
            "plan": scenario.to_plan(),
            "accessToken": sessions[0]["accessToken"],
            "refreshTokens": [s["refreshToken"] for s in sessions],
            "credentials": {
                "admin": {"email": self.stack.admin.email, "password": self.stack.admin.password},
                "viewer": {
                    "email": self.stack.viewer.email,
                    "password": self.stack.viewer.password,
                },
            },
            "orders": orders,
            "crowd": self.crowd,
            "samplesFile": str(samples_file),
        }

    def run_scenario(self, scenario: Scenario) -> list[StepResult]:
        """Runs one Locust process for the scenario and turns its raw samples into steps."""
        WORK_DIR.mkdir(parents=True, exist_ok=True)
        slug = _slug(scenario.name)
        run_file, samples_file = WORK_DIR / f"{slug}.run.json", WORK_DIR / f"{slug}.samples.json"
        log_file = WORK_DIR / f"{slug}.log"
        samples_file.unlink(missing_ok=True)
        # It holds the bench users' passwords and tokens: private, and gone once Locust is.
        run_file.unlink(missing_ok=True)
        run_file.touch(mode=0o600)
        run_file.write_text(json.dumps(self._run_file(scenario, samples_file)))
        command = [
            str(LOCUST),
            "-f",
            str(REPO / "bench" / "locustfile.py"),
            "--headless",
            "--host",
            self.hub.gateway_url,
            "--only-summary",
            "--loglevel",
            "WARNING",
            scenario.user_class,
        ]
        env = {**os.environ, "BENCH_RUN_FILE": str(run_file), "PYTHONPATH": str(REPO)}
        budget_s = scenario.duration_s + LOCUST_GRACE_S
        print(
            f"    {scenario.name}: {len(scenario.steps)} step(s), at most "
            f"{format_duration(scenario.duration_s)}; Locust log {log_file.relative_to(REPO)}"
        )
        # Our own venv's Locust with fixed arguments; it is stopped by its PID whatever happens.
        with (
            log_file.open("w") as log,
            subprocess.Popen(  # noqa: S603
                command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT
            ) as locust,
        ):

            def roots() -> dict[str, int]:
                return {**self.stack.component_pids(), "locust": locust.pid}

            with CpuSampler(roots) as cpu:
                try:
                    locust.wait(timeout=budget_s)
                except subprocess.TimeoutExpired:
                    self.notes.append(f"{scenario.name}: Locust overran its plan and was stopped.")
                finally:
                    _stop(locust)
                    run_file.unlink(missing_ok=True)
        if not samples_file.exists():
            raise LoadRunError(f"{scenario.name}: Locust wrote no results; see {log_file}")
        recorded = json.loads(samples_file.read_text())
        samples = [Sample.from_row(row) for row in recorded["samples"]]
        return [self._step_result(scenario, entry, samples, cpu) for entry in recorded["steps"]]

    def _step_result(
        self, scenario: Scenario, entry: dict[str, Any], samples: list[Sample], cpu: CpuSampler
    ) -> StepResult:
        step = scenario.steps[entry["index"]]
        start, end = entry["started_at"] + step.warmup_s, entry["ended_at"]
        if end - start < 1:  # stopped during its warm-up: measure it whole
            start = entry["started_at"]
        window = in_window(samples, start, end)
        measured = numbers(window, end - start)
        result = StepResult(
            scenario=scenario.name,
            label=step.label,
            users=step.users,
            target_rate=step.target_rate,
            numbers=measured,
            by_request=numbers_by_name(window, end - start),
            cpu=cpu.usage(start, end),
            sustained=is_sustained(measured, step.target_rate),
            broken=entry.get("broken"),
        )
        print(
            f"    {scenario.name} {step.label}: {measured.rps:,.1f} req/s, p50 "
            f"{measured.p50_ms:.0f} ms, p95 {measured.p95_ms:.0f} ms, p99 "
            f"{measured.p99_ms:.0f} ms, {measured.errors:,} errors"
            + (f", broke: {result.broken}" if result.broken else "")
        )
        return result

    def load(self) -> list[StepResult]:
        plan = self.plan
        per_user = per_user_limit(self.hub)
        highest = max([*plan.stress_rates, *(rate for rate, _ in plan.crowd_steps)])
        size = self.sign_up_crowd(crowd_size(highest, per_user))
        steps = self.run_scenario(closed_loop("normal", plan.normal_users, plan.normal_s, 10))
        peak_ramp = min(30, plan.peak_s / 3)
        steps += self.run_scenario(closed_loop("peak", plan.peak_users, plan.peak_s, peak_ramp))
        steps += self.crowd_steps()
        steps += self.run_scenario(heavy_admin(per_user, plan.heavy_admin_s))
        steps += self.run_scenario(stress(list(plan.stress_rates), plan.stress_step_s, size))
        return steps

    def sign_up_crowd(self, size: int) -> int:
        print(f"    the crowd: {size} people, a fifth of them admins, each its own account")
        self.crowd = ensure_crowd(self.hub, size)
        return size

    def crowd_steps(self) -> list[StepResult]:
        """The crowd's paced steps, then the profiled one."""
        rates = [rate for rate, _ in self.plan.crowd_steps]
        people = crowd_size(max(rates), per_user_limit(self.hub))
        steps = self.run_scenario(crowd("crowd", list(self.plan.crowd_steps), people))
        self.profile(people)
        return steps

    def profile(self, people: int) -> None:
        """The crowd at the plan's profiled rate (200 req/s) once more, with py-spy recording
        the Python services once it is under way; its numbers are not kept (the profiler costs
        CPU of its own)."""
        if py_spy() is None:
            self.notes.append(
                "No CPU profiles: py-spy was not found (`make python-deps` installs it; run the "
                "bench as a user allowed to read the services' memory)."
            )
            return
        scenario = crowd("profiled", [(self.plan.profile_rate, self.plan.profile_s + 10)], people)
        start_after_s = scenario.steps[0].warmup_s + LOCUST_START_S

        def attach() -> None:
            time.sleep(start_after_s)
            pids = self.stack.component_pids()
            found = {name: pids[name] for name in PROFILED if name in pids}
            self.profiles = record(found, self.plan.profile_s)

        profiler = threading.Thread(target=attach, name="profiler", daemon=True)
        profiler.start()
        self.run_scenario(scenario)
        profiler.join(timeout=self.plan.profile_s + 60)

    # Ingest ----------------------------------------------------------------------------------
    def ingest_run(self) -> IngestRun:
        count = self.plan.ingest_orders
        try:
            done = deliver(self.hub, new_orders_plan(count), self.rng, label="ingest run")
        except DeliveryError as exc:
            self.notes.append(f"Ingest run: {exc}")
            rate = round(exc.arrived / exc.seconds, 1) if exc.seconds else 0.0
            return IngestRun(orders=count, seconds=exc.seconds, rate=rate, completed=False)
        return IngestRun(orders=count, seconds=done.seconds, rate=done.rate, completed=True)

    def new_order_latency(self) -> NewOrderLatency:
        """Creates one order at a time and searches for its external id until it is found."""
        found: list[float] = []
        timeouts = 0
        for index in range(self.plan.single_orders):
            channel = CHANNELS[index % len(CHANNELS)]
            [external_id] = self.hub.create_orders(channel, 1)
            created = time.monotonic()
            while time.monotonic() - created < NEW_ORDER_TIMEOUT_S:
                with suppress(httpx.HTTPError, ApiError):  # a restarting service: poll again
                    if self.hub.find_by_external_id(external_id):
                        found.append(round((time.monotonic() - created) * 1000, 1))
                        break
                time.sleep(0.05)
            else:
                timeouts += 1
        ordered = sorted(found)
        print(
            f"    one new order: p50 {percentile(ordered, 50):.0f} ms, "
            f"p95 {percentile(ordered, 95):.0f} ms, {timeouts} timed out"
        )
        return NewOrderLatency(
            samples_ms=found,
            timeouts=timeouts,
            p50_ms=percentile(ordered, 50),
            p95_ms=percentile(ordered, 95),
            max_ms=ordered[-1] if ordered else 0.0,
        )

    def query_plans(self) -> QueryPlans:
        """From the orders service's endpoint if it has one, else from its command
        ``orders-explain-queries`` run with the stack's own environment."""
        url = f"{self.stack.orders_url}{report.QUERY_PLANS_PATH}"
        try:
            response = httpx.get(url, timeout=300)
            if response.status_code == 200:
                return QueryPlans(source=f"GET {url}", status="ok", body=response.json())
            endpoint = f"HTTP {response.status_code}"
        except (httpx.HTTPError, ValueError) as exc:
            endpoint = type(exc).__name__
        if not EXPLAIN_COMMAND.exists():
            return QueryPlans(source=f"GET {url}", status=endpoint)
        try:
            done = subprocess.run(  # noqa: S603 - our own venv's command, no arguments
                [str(EXPLAIN_COMMAND)],
                env={**os.environ, **self.stack.service_environment()},
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return QueryPlans(source=EXPLAIN_COMMAND.name, status="timed out after 5 minutes")
        if done.returncode != 0:
            last_line = (done.stderr.strip().splitlines() or [""])[-1]
            return QueryPlans(
                source=EXPLAIN_COMMAND.name, status=f"exit {done.returncode}: {last_line}"
            )
        try:
            return QueryPlans(
                source=EXPLAIN_COMMAND.name, status="ok", body=json.loads(done.stdout)
            )
        except ValueError:
            return QueryPlans(source=EXPLAIN_COMMAND.name, status="ok", body=done.stdout)

    # The whole run ---------------------------------------------------------------------------
    def run(self, command: str, rate_limits: str) -> BenchResults:
        started_at = datetime.now(UTC)
        started = time.monotonic()
        store_at_start = self.hub.stored_total()
        with self.phase("fill and reads against orders stored"):
            fill, reads = self.fill()
        with self.phase("load scenarios"):
            reference = [reference_work_ms()]
            steps = self.load()
            reference.append(reference_work_ms())
        with self.phase("ingest run"):
            ingest = self.ingest_run()
        with self.phase("one new order at a time"):
            latency = self.new_order_latency()
        with self.phase("history import while live orders arrive"):
            busy_day = busy_day_of(self.hub, self.stack, self.plan.history_import_orders, self.rng)
        with self.phase("query plans"):
            plans = self.query_plans()
        return BenchResults(
            started_at=started_at.strftime("%Y-%m-%d %H:%M UTC"),
            runtime_s=round(time.monotonic() - started, 1),
            phase_seconds=self.phase_seconds,
            machine=this_machine(),
            command=command,
            plan=self.plan.description,
            rate_limits=rate_limits,
            store_size_at_start=store_at_start,
            store_size_at_end=self.hub.stored_total(),
            fill=fill,
            read_latency=reads,
            steps=steps,
            ingest=ingest,
            new_order_latency=latency,
            history_import=busy_day,
            query_plans=plans,
            notes=self.notes,
            profiles=self.profiles,
            host_reference_ms=reference,
        )


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stops a Locust process this run started, by its own PID: SIGTERM, then SIGKILL."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def per_user_limit(hub: OrderHub, default: int = 300) -> int:
    """The per-user limit the gateway reports (``X-RateLimit-Limit``), per minute."""
    reported = hub.rate_limits()
    return int(reported) if reported.isdigit() else default


def _rate_limits(hub: OrderHub, raised: bool) -> str:
    reported = f"X-RateLimit-Limit {hub.rate_limits()} per minute for each user"
    if not raised:
        return f"as configured (`--keep-gateway`): {reported}"
    settings = "; ".join(
        f"{component}: " + " ".join(f"{key}={value}" for key, value in environment.items())
        for component, environment in BENCH_ENV.items()
    )
    return (
        "per-address limits raised for the run, since the whole crowd comes from one address "
        f"({settings}; restarted with them and restored afterwards); per-user limits as "
        f"configured ({reported})"
    )


def busy_day_of(hub: OrderHub, stack: LocalStack, orders: int, rng: random.Random) -> HistoryImport:
    """The history import, its live orders watched by the viewer: a second user, whose reads
    count against a per-user limit of their own."""
    viewer = OrderHub(
        gateway_url=stack.gateway_url, channels_url=stack.channels_url, credentials=stack.viewer
    )
    with closing(viewer):
        return history_import(hub, viewer, orders, rng)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a short smoke run of the tooling")
    parser.add_argument(
        "--keep-gateway",
        action="store_true",
        help="run against the services as configured instead of restarting them with the bench "
        "profile (per-address rate limits raised)",
    )
    parser.add_argument("--doc", type=Path, default=report.DOC, help="the page to write")
    parser.add_argument(
        "--history-orders",
        type=int,
        help="orders of the history import (default: the plan's, 100,000 in the full plan)",
    )
    parser.add_argument(
        "--only",
        choices=["history-import", "crowd"],
        help="run this scenario alone (crowd: its paced steps and the profiled one); prints its "
        "figures and writes no page",
    )
    args = parser.parse_args(argv)

    stack = local_stack()
    hub = OrderHub(
        gateway_url=stack.gateway_url, channels_url=stack.channels_url, credentials=stack.admin
    )
    given = sys.argv[1:] if argv is None else argv
    command = f"python -m bench.run {' '.join(given)}" if given else "make bench"
    try:
        hub.ensure_up()
        profile: AbstractContextManager[None] = (
            nullcontext() if args.keep_gateway else bench_profile(stack.stack)
        )
        with profile:
            hub.ensure_up()
            plan = quick_plan(hub.stored_total()) if args.quick else FULL_PLAN
            if args.history_orders is not None:
                plan = dataclasses.replace(plan, history_import_orders=args.history_orders)
            if args.only == "history-import":
                rng = random.Random()  # noqa: S311
                busy_day = busy_day_of(hub, stack, plan.history_import_orders, rng)
                print(busy_day.model_dump_json(indent=2))
                return 0 if busy_day.settled else 1
            if args.only == "crowd":
                run = BenchRun(hub, stack, plan)
                run.sign_up_crowd(crowd_size(max(plan.crowd_steps)[0], per_user_limit(hub)))
                before = reference_work_ms()
                steps = run.crowd_steps()
                print(f"    host reference: {before} ms before, {reference_work_ms()} ms after")
                for step in steps:
                    # Milliseconds of CPU per request, by component (as the page's CPU table).
                    per_request = {
                        name: round(use.mean_pct * 10 / step.numbers.rps, 2)
                        for name, use in step.cpu.items()
                        if step.numbers.rps
                    }
                    print(f"    {step.label}: CPU ms per request {per_request}")
                print(json.dumps(run.profiles, indent=2))
                return 0
            limits = _rate_limits(hub, raised=not args.keep_gateway)
            results = BenchRun(hub, stack, plan).run(command, limits)
    except (StackNotUpError, DeliveryError, ApiError, LoadRunError) as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1
    except httpx.HTTPError as exc:
        print(f"bench failed: the stack stopped answering ({exc!r})", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench interrupted", file=sys.stderr)
        return 130
    finally:
        hub.close()
    report.write(results, args.doc)
    print(f"==> bench: wrote {args.doc} in {format_duration(results.runtime_s)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
