"""What one ``make bench`` run measured, as one JSON-serializable structure.

The run writes it to ``docs/bench/results.json`` and the report is rendered from it alone, so
``python -m bench.report`` can re-render the page without measuring again.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class Numbers(BaseModel):
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    error_kinds: dict[str, int] = Field(default_factory=dict)

    @property
    def error_ratio(self) -> float:
        return self.errors / self.requests if self.requests else 0.0


class CpuUse(BaseModel):
    """CPU of one component during a step, in percent of one core (200 = two cores busy)."""

    mean_pct: float
    max_pct: float


class StepResult(BaseModel):
    scenario: str
    label: str
    users: int
    target_rate: float | None  # None for closed-loop steps (a number of users, no rate)
    numbers: Numbers
    by_request: dict[str, Numbers] = Field(default_factory=dict)
    cpu: dict[str, CpuUse] = Field(default_factory=dict)
    sustained: bool
    broken: str | None = None  # why the stress ramp stopped here


class ReadLatency(BaseModel):
    """Uncached read latency with ``store_size`` orders stored, one entry per query shape."""

    store_size: int
    series: dict[str, Numbers]


class Fill(BaseModel):
    orders: int
    seconds: float
    rate: float


class IngestRun(BaseModel):
    orders: int
    seconds: float
    rate: float
    completed: bool


class NewOrderLatency(BaseModel):
    samples_ms: list[float]
    timeouts: int
    p50_ms: float
    p95_ms: float
    max_ms: float


class HistoryImport(BaseModel):
    """A history import with its status changes while live orders arrive (``history_import``)."""

    orders: int
    stored_s: float  # from the first create call until every imported order was stored
    settled_s: float  # ... until every imported order was in its final status
    settled: bool
    live_rate: float
    live_orders: int
    live_never_visible: int
    live_p50_ms: float
    live_p95_ms: float
    live_max_ms: float
    live_watch_refused: int = 0  # the watcher's reads answered 429 (its waits are not counted)
    failure: str | None = None
    # Set when these figures come from a run of this scenario alone, merged into the full run's
    # results afterwards (``python -m bench.report --history-import``): its command and time.
    run_apart: str | None = None


class Machine(BaseModel):
    cores: int
    memory_gib: float
    cpu_model: str
    os: str
    kernel: str
    python: str
    locust: str


class QueryPlans(BaseModel):
    """The orders service's EXPLAIN ANALYZE of its query shapes, as its ``source`` gave them."""

    source: str  # "GET http://.../internal/query-plans" or "orders-explain-queries"
    status: str  # "ok", or why there are none ("HTTP 404", "exit 1: ...")
    body: object | None = None


class BenchResults(BaseModel):
    started_at: str
    runtime_s: float
    phase_seconds: dict[str, float] = Field(default_factory=dict)
    machine: Machine
    command: str
    plan: str
    rate_limits: str
    store_size_at_start: int
    store_size_at_end: int
    fill: Fill | None = None
    read_latency: list[ReadLatency] = Field(default_factory=list)
    steps: list[StepResult] = Field(default_factory=list)
    ingest: IngestRun | None = None
    new_order_latency: NewOrderLatency | None = None
    history_import: HistoryImport | None = None
    query_plans: QueryPlans | None = None
    notes: list[str] = Field(default_factory=list)
    # Per service, its top functions by own CPU time and their share (bench.profiles).
    profiles: dict[str, list[tuple[str, float]]] = Field(default_factory=dict)
    # ``bench.cpu.reference_work_ms`` before the load scenarios and after them.
    host_reference_ms: list[float] = Field(default_factory=list)
