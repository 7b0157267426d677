"""The facts the documents state that the code decides: ports, variable names, topic names, metric
names, repository paths and the benchmark figures TECHNICAL.md quotes. Each check reads the pages
as text and compares what they name with what the code declares (devstack's ports, the settings
classes, ``Topics``, the metrics the services register, the files of the repository,
BENCHMARKS.md); the ``*_catches_*`` tests feed each check a wrong line and expect it reported."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_fastapi_instrumentator import Instrumentator

# Each metrics module declares its metrics in the default registry when it is imported; so do
# the shared health and audit modules. known_series adds the HTTP metrics every app exposes.
import gateway.metrics  # noqa: F401
import ingest.metrics  # noqa: F401
import orders.metrics  # noqa: F401
from deploy.config_reference import MIXINS, READERS, variables_of
from deploy.tests.test_alert_rules import known_series
from devstack.components import PORTS
from orderhub_common import audit, health  # noqa: F401
from orderhub_common.kafka import Topics

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[1]
PAGES = [
    REPO / "README.md",
    *sorted((REPO / "docs").glob("*.md")),
    *sorted((REPO / "services").glob("*/README.md")),
]
# The contract's port table (CONTRACT.md section 2: fixed, outside this repository).
CONTRACT_PORTS = {"gateway": 8080, "auth": 8001, "orders": 8002, "ingest": 8003,
                  "mock_channels": 8004, "kafka": 9092, "mongodb": 27017, "postgres": 5432,
                  "redis": 6379}  # fmt: skip
DEFAULT_PORTS = {port.name: port.default for port in PORTS}
PORT_VARIABLES = {port.variable: port.default for port in PORTS}
# How the pages name the components of devstack's PORTS.
COMPONENT_WORDS = {
    "gateway": "gateway", "auth": "auth", "orders": "orders", "ingest": "ingest",
    "mock channels": "mock_channels", "mock_channels": "mock_channels",
    "mock-channels": "mock_channels", "kafka": "kafka", "mongodb": "mongodb",
    "postgresql": "postgres", "postgres": "postgres", "redis": "redis",
}  # fmt: skip
# The SPA's development server (Vite), the one local port that is not the stack's.
VITE_PORT = int(re.findall(r"port: (\d+)", (REPO / "frontend" / "vite.config.ts").read_text())[0])
# Variables make reads (beyond what devstack, `.env.example` and the compose file read).
MAKE_VARIABLES = {"REPLICAS", "BACKUP", "BACKUP_DIR", "N", "ORDERHUB_PYTHON"}
METRIC_PREFIXES = ("orderhub_", "ingest_", "orders_", "gateway_", "auth_", "http_")
# Names of those prefixes that are not metrics: databases, devstack's second replicas.
# Names of those prefixes that are not metrics: databases, a role, a cookie, devstack's second
# replicas, the shared package.
NOT_METRICS = {"orderhub_orders", "orderhub_auth", "orderhub_owner", "orderhub_csrf",
               "orders_2", "ingest_2", "orderhub_common"}  # fmt: skip
SUMMARY_START, SUMMARY_END = "<!-- benchmark-summary -->", "<!-- /benchmark-summary -->"
BENCH_FIGURE = re.compile(
    r"\bp(?:50|95|99):? ?\d|\d+\.\d+ req/s|\d% (?:errors|fast)|\d orders/s\b|sustained: \*\*"
)

# A figure in the summary's prose: a duration, a rate, a share, a count.
FIGURE = re.compile(
    r"\d+m\d+s|\d[\d,.]*\d(?: ?(?:ms|s|req/s|orders/s|%))?(?![\w/])|\d(?: ?(?:ms|s))?\b"
)

Finding = tuple[str, int, str]  # page, line, what is wrong


def _line(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def _backticked(text: str) -> Iterator[tuple[int, str]]:
    for match in re.finditer(r"`([^`\n]+)`", text):
        yield match.start(), match.group(1)


def _rows(text: str) -> Iterator[tuple[int, list[str]]]:
    for match in re.finditer(r"^\|(.+)\|[ \t]*$", text, flags=re.MULTILINE):
        yield match.start(), [cell.strip() for cell in match.group(1).split("|")]


def _component(words: str) -> str | None:
    plain = re.sub(r"\([^)]*\)|[`*:]", " ", words).strip().lower()
    for word, component in COMPONENT_WORDS.items():
        if plain == word or plain.startswith(word + " "):
            return component
    return None


def _numbers(cell: str) -> list[int] | None:
    parts = re.split(r"[,\s]+", cell.strip())
    return (
        [int(p) for p in parts]
        if parts and all(re.fullmatch(r"\d{4,5}", p) for p in parts)
        else None
    )


# --- ports ---------------------------------------------------------------------------------


def port_claims(text: str) -> Iterator[tuple[int, str, int]]:
    """(position, component or port variable, port) for every port a page gives something."""
    for match in re.finditer(r"`(\w+_PORT)`[\s|,(:=]*(?:default\s+)?(\d{4,5})\b", text):
        yield match.start(), match.group(1), int(match.group(2))
    for match in re.finditer(r"port (\d{4,5}), `(\w+_PORT)`", text):
        yield match.start(), match.group(2), int(match.group(1))
    for start, cells in _rows(text):
        variables = re.findall(r"`(\w+_PORT)`", cells[0])
        names = [n for n in re.split(r",\s*|\s+and\s+", cells[0]) if n]
        for cell in cells[1:]:
            numbers = _numbers(cell)
            if numbers and variables and len(variables) == len(numbers):
                yield from ((start, v, n) for v, n in zip(variables, numbers, strict=True))
            elif numbers and len(names) == len(numbers) and all(map(_component, names)):
                for name, number in zip(names, numbers, strict=True):
                    yield start, str(_component(name)), number
    prose = r"\b(gateway|auth|orders|ingest|mock channels)\s*\((?:port\s*)?(\d{4,5})\)"
    for match in re.finditer(prose, text):
        yield match.start(), str(_component(match.group(1))), int(match.group(2))
    hosts = "|".join(["127\\.0\\.0\\.1", "localhost", *map(re.escape, COMPONENT_WORDS)])
    for match in re.finditer(rf"(?<![\w.-])({hosts}):(\d{{4,5}})\b", text):
        host = _component(match.group(1))
        yield match.start(), host or "a local address", int(match.group(2))


def wrong_ports(page: str, text: str) -> list[Finding]:
    found = []
    for position, subject, port in port_claims(text):
        if subject in PORT_VARIABLES:
            allowed = {PORT_VARIABLES[subject]}
        elif subject in DEFAULT_PORTS:
            allowed = {DEFAULT_PORTS[subject], DEFAULT_PORTS.get(f"{subject}_2")}
        else:
            allowed = {*DEFAULT_PORTS.values(), VITE_PORT}
        if port not in allowed:
            found.append((page, _line(text, position), f"{subject}: {port}, not {allowed}"))
    return found


def test_devstack_serves_the_contract_s_ports() -> None:
    assert {name: DEFAULT_PORTS[name] for name in CONTRACT_PORTS} == CONTRACT_PORTS


def test_the_contract_s_port_table_is_the_one_this_test_holds() -> None:
    contract = REPO.parent / "shared" / "CONTRACT.md"
    if not contract.exists():
        pytest.skip("the contract lives outside this clone")
    section = contract.read_text().split("## 2. Ports", 1)[1].split("\n## ", 1)[0]
    table = {}
    for _, cells in _rows(section):
        component = _component(cells[0])
        if component and cells[1].isdigit():
            table[component] = int(cells[1])
    assert table == CONTRACT_PORTS


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_port_a_page_names_is_the_stack_s(page: Path) -> None:
    assert wrong_ports(str(page.relative_to(REPO)), page.read_text()) == []


def test_the_port_check_catches_a_wrong_port() -> None:
    wrong = [
        "| gateway | 8081 | routes |",
        "| auth, orders | 8001, 8003 |",
        "Run: `uv run ingest` (port `INGEST_PORT`, default 8033).",
        "a second replica of ingest (8014)",
        "curl http://127.0.0.1:8005/docs",
        "MONGODB_URL=mongodb://orderhub:pw@mongodb:27018/",
    ]
    for line in wrong:
        assert wrong_ports("page", line), line
    right = "| auth, orders | 8001, 8002 |\nreplica of ingest (8013); `KAFKA_TLS_PORT` (9094"
    assert wrong_ports("page", right) == []


# --- variables -----------------------------------------------------------------------------


def settings_variables() -> set[str]:
    classes = [cls for cls, _ in READERS.values()] + [cls for cls, _ in MIXINS]
    return set().union(*(variables_of(cls) for cls in classes))


def stack_variables() -> set[str]:
    """What the local stack, make and compose read besides the services' settings."""
    names = set(PORT_VARIABLES) | MAKE_VARIABLES
    make = (REPO / "Makefile").read_text()
    assert {name for name in MAKE_VARIABLES if not re.search(rf"\b{name}\b", make)} == set()
    for module in (REPO / "infra" / "devstack" / "src" / "devstack").glob("*.py"):
        names |= set(
            re.findall(r"[\"']([A-Z][A-Z0-9]*_[A-Z0-9_]*[A-Z0-9])[\"']", module.read_text())
        )
    names |= set(re.findall(r"^([A-Z][A-Z0-9_]+)=", (REPO / ".env.example").read_text(), re.M))
    compose_text = (REPO / "docker-compose.yml").read_text()
    names |= set(re.findall(r"\$\{([A-Z][A-Z0-9_]+)", compose_text))
    for service in yaml.safe_load(compose_text)["services"].values():
        environment = service.get("environment") or {}
        names |= set(environment if isinstance(environment, dict) else [])
    return names


def variable_mentions(text: str) -> Iterator[tuple[int, str]]:
    """Every backticked variable name (or name pattern: `<SERVICE>_...`, `ORDERS_OUTBOX_*`)."""
    for position, content in _backticked(text):
        if re.fullmatch(r"[A-Z<][A-Z0-9_<>*]*_[A-Z0-9_<>*]+", content):
            yield position, content
        else:
            for name in re.findall(r"(?:^|\s)([A-Z][A-Z0-9_]*_[A-Z0-9_]+)=", content):
                yield position, name


def unknown_variables(page: str, text: str, known: set[str]) -> list[Finding]:
    """The names among ``text``'s that look like settings (a settings variable's or a port's
    first word, or a service placeholder) and that nothing in ``known`` reads."""
    setting_like = settings_variables() | set(PORT_VARIABLES)
    prefixes = {name.split("_", 1)[0] for name in setting_like} | {"<SERVICE>", "<SVC>", "<PREFIX>"}
    found = []
    for position, name in variable_mentions(text):
        if name.split("_", 1)[0] not in prefixes:
            continue  # a constant of the code, not a setting (`ALLOWED_MOVES`)
        pattern = re.sub(r"<[A-Z]+>|\\\*", "[A-Z0-9_]+", re.escape(name))
        if not any(re.fullmatch(pattern, variable) for variable in known):
            found.append((page, _line(text, position), f"no such variable: {name}"))
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_variable_a_page_names_is_read_by_something(page: Path) -> None:
    known = settings_variables() | stack_variables()
    assert unknown_variables(str(page.relative_to(REPO)), page.read_text(), known) == []


def test_every_setting_is_in_the_configuration_reference() -> None:
    reference = (REPO / "docs" / "CONFIGURATION.md").read_text()
    assert {name for name in settings_variables() if f"`{name}`" not in reference} == set()


def test_the_variable_check_catches_a_variable_nobody_reads() -> None:
    known = settings_variables() | stack_variables()
    for line in ["bodies capped (`MAX_BODY_BYTE`)", "`ORDERS_OUTBOX_NOTHING_*`",
                 "run `ORDERHUB_ENVIRONMENT=production make up`"]:  # fmt: skip
        assert unknown_variables("page", line, known), line
    right = "`<SERVICE>_RATE_LIMIT_PER_IP_PER_MIN`, `ORDERS_OUTBOX_*`, `ALLOWED_MOVES`"
    assert unknown_variables("page", right, known) == []


# --- topics --------------------------------------------------------------------------------

TOPIC = re.compile(r"(?<![\w./-])([a-z]+(?:\.[a-z_]+)*\.v\d+(?:\.dlq)?)(?![\w-])")


def unknown_topics(page: str, text: str) -> list[Finding]:
    topics = Topics()
    names = {topics.ingested, topics.ingested_history, topics.ingested_dlq, topics.order_events,
             topics.audit, topics.audit_dlq}  # fmt: skip
    return [
        (page, _line(text, match.start()), f"no such topic: {match.group(1)}")
        for match in TOPIC.finditer(text)
        if match.group(1) not in names
    ]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_topic_a_page_names_is_one_of_the_contract_s(page: Path) -> None:
    assert unknown_topics(str(page.relative_to(REPO)), page.read_text()) == []


def test_the_topic_check_catches_a_topic_that_does_not_exist() -> None:
    assert unknown_topics("page", "ingest publishes to `orders.ingest.v1`")
    assert unknown_topics("page", "the dead letters of `audit.v2.dlq`")
    assert unknown_topics("page", "`orders.events.v1` and `audit.v1.dlq`") == []


# --- metrics -------------------------------------------------------------------------------


def metric_mentions(text: str) -> Iterator[tuple[int, str]]:
    prefixes = "|".join(METRIC_PREFIXES)
    for match in re.finditer(rf"(?<![\w./-])((?:{prefixes})[a-z0-9_]*[a-z0-9])(?![\w./-])", text):
        yield match.start(), match.group(1)


def unknown_metrics(page: str, text: str, known: set[str]) -> list[Finding]:
    return [
        (page, _line(text, position), f"no service exports {name}")
        for position, name in metric_mentions(text)
        if name not in known and name not in NOT_METRICS
    ]


def exported_metrics() -> set[str]:
    """What the services expose (known_series: counters as ``_total``, histograms as
    ``_bucket``/``_sum``/``_count``), and a histogram's own name, which a page may use for it."""
    http, app = CollectorRegistry(), FastAPI()
    Instrumentator(registry=http).instrument(app)
    TestClient(app).get("/")  # the instrumentation declares its metrics when it first runs
    histograms = {
        family.name
        for registry in (REGISTRY, http)
        for family in registry.collect()
        if family.type == "histogram"
    }
    return known_series() | histograms


@pytest.fixture(scope="module")
def series() -> set[str]:
    return exported_metrics()


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_metric_a_page_names_is_one_a_service_exports(page: Path, series: set[str]) -> None:
    assert unknown_metrics(str(page.relative_to(REPO)), page.read_text(), series) == []


def test_the_metric_check_catches_a_metric_no_service_exports(series: set[str]) -> None:
    assert unknown_metrics("page", "`orders_consumer_lag_seconds` above 30", series)
    assert unknown_metrics("page", "rate(gateway_rate_limited[5m])", series)
    assert unknown_metrics("page", "`http_request_duration_total` p95", series)
    right = "`http_request_duration_seconds_bucket`, `orders_write_backs_total{channel}`"
    assert unknown_metrics("page", right, series) == []


# --- paths ---------------------------------------------------------------------------------

REPO_PATH = re.compile(r"(?:\.\./)+[\w./<>*-]+|(?:services|deploy|infra|docs|tests|bench|"
                       r"frontend|\.ci|\.github)/[\w./<>*-]*")  # fmt: skip


def missing_paths(page: Path, text: str) -> list[Finding]:
    found = []
    for position, content in _backticked(text):
        for token in content.split():
            token = token.split("::")[0].rstrip(".,;:)")
            if not REPO_PATH.fullmatch(token):
                continue
            if not any(_exists_inside(base / token) for base in {page.parent, REPO}):
                found.append((page.name, _line(text, position), f"no such file here: {token}"))
    return found


def _exists_inside(path: Path) -> bool:
    pattern = re.sub(r"<[^>]+>", "*", str(path.resolve()))
    if not Path(pattern).is_relative_to(REPO):
        return False
    return any(Path("/").glob(pattern.lstrip("/"))) if "*" in pattern else Path(pattern).exists()


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_repository_path_a_page_names_exists(page: Path) -> None:
    assert missing_paths(page, page.read_text()) == []


def test_the_path_check_catches_a_missing_file_and_one_outside_the_repository() -> None:
    page = REPO / "docs" / "TECHNICAL.md"
    assert missing_paths(page, "`services/orders/src/orders/nothing.py`")
    assert missing_paths(page, "`../../shared/CONTRACT.md`")
    assert missing_paths(page, "`deploy/kubernetes/overlays/<overlay>/nothing.yaml`")
    right = "`deploy/kubernetes/overlays/<overlay>` and `tests/test_docs_facts.py::test_x`"
    assert missing_paths(page, right) == []


# --- benchmark figures ---------------------------------------------------------------------


def benchmark_rows(text: str) -> dict[tuple[str, str], list[dict[str, str]]]:
    """The rows of every table of ``text`` keyed by their first two cells, by column name."""
    rows: dict[tuple[str, str], list[dict[str, str]]] = {}
    header: list[str] = []
    for line in text.splitlines():
        if not line.startswith("|"):
            header = []
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not header:
            header = cells
        elif not set("".join(cells)) <= set("-: "):
            rows.setdefault((cells[0], cells[1]), []).append(dict(zip(header, cells, strict=False)))
    return rows


def summary_mismatches(technical: str, benchmarks: str) -> list[str]:
    """Each cell of TECHNICAL.md's marked summary tables against BENCHMARKS.md's own row; and no
    benchmark figure anywhere else in the page."""
    if SUMMARY_START not in technical:
        return ["TECHNICAL.md has no benchmark summary"]
    before, rest = technical.split(SUMMARY_START, 1)
    summary, after = rest.split(SUMMARY_END, 1)
    measured = benchmark_rows(benchmarks)
    wrong = []
    for key, (row, *_) in benchmark_rows(summary).items():
        if not any(row.items() <= source.items() for source in measured.get(key, [])):
            wrong.append(f"BENCHMARKS.md has no row {row}")
    prose = "\n".join(line for line in summary.splitlines() if not line.startswith("|"))
    wrong += [f"not in BENCHMARKS.md: {figure!r}" for figure in FIGURE.findall(prose)
              if figure not in benchmarks]  # fmt: skip
    wrong += [f"quoted outside the summary: {m.group(0)!r}"
              for m in BENCH_FIGURE.finditer(before + after)]  # fmt: skip
    return wrong


def test_technical_quotes_the_benchmarks_as_benchmarks_md_states_them() -> None:
    technical = (REPO / "docs" / "TECHNICAL.md").read_text()
    benchmarks = (REPO / "docs" / "BENCHMARKS.md").read_text()
    assert summary_mismatches(technical, benchmarks) == []


@pytest.mark.parametrize(
    "page", [p for p in PAGES if p.name not in {"BENCHMARKS.md", "TECHNICAL.md"}],
    ids=lambda p: str(p.relative_to(REPO)),
)  # fmt: skip
def test_no_other_page_quotes_a_benchmark_figure(page: Path) -> None:
    assert [m.group(0) for m in BENCH_FIGURE.finditer(page.read_text())] == []


def test_the_benchmark_check_catches_a_figure_benchmarks_md_does_not_state() -> None:
    technical = (REPO / "docs" / "TECHNICAL.md").read_text()
    benchmarks = (REPO / "docs" / "BENCHMARKS.md").read_text()
    summary = technical.split(SUMMARY_START, 1)[1].split(SUMMARY_END, 1)[0]
    row = next(line for line in summary.splitlines() if line.startswith("| normal"))
    cells = row.split("|")
    cells[4] = " 999 ms "  # the p95 changed
    assert summary_mismatches(technical.replace(row, "|".join(cells)), benchmarks)
    quoted = technical.replace("## 5. Performance", "The normal scenario: p95 118 ms.\n\n## 5. P")
    assert summary_mismatches(quoted, benchmarks)
    ingest = next(line for line in summary.splitlines() if "orders/s" in line)
    assert summary_mismatches(technical.replace(ingest, ingest.replace(".", "1.", 1)), benchmarks)
