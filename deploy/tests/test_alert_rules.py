"""The alert rules (deploy/prometheus/alerts.yml) are valid, read metrics that exist, and each
has its runbook section.

Every expression is parsed as PromQL (promql-parser, the Rust parser); every metric it reads
must be one a service declares today (their ``metrics.py`` and the HTTP metrics every service
gets from ``create_service_app``). Where ``promtool`` is at hand (on the PATH, or built once by
``make promtool`` into .cache/bin; ``make test`` builds it and sets ORDERHUB_REQUIRE_PROMTOOL, so
there it never skips), it checks the file and runs the rule tests beside it (alerts.test.yml: each
alert fires on the series it is for, and not before its time), whose counters are born as
Prometheus scrapes them: absent until their first increment, then 1 or more, never 0.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_fastapi_instrumentator import Instrumentator

# Each metrics module declares its metrics in the default registry when it is imported.
import gateway.metrics  # noqa: F401
import ingest.metrics  # noqa: F401
import orderhub_common.audit  # noqa: F401
import orders.metrics  # noqa: F401
from orderhub_common import health  # noqa: F401

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "deploy" / "prometheus" / "alerts.yml"
RULE_TESTS = REPO / "deploy" / "prometheus" / "alerts.test.yml"
RUNBOOK = REPO / "docs" / "RUNBOOK.md"
# What issue #16 asks an alert for, and the alerts that answer it.
REQUIRED = {
    "consumer lag": {"OrderHubConsumerLagHigh", "OrderHubConsumerStalled"},
    "dead letters": {"OrderHubDeadLetters"},
    "breaker open time": {"OrderHubChannelCircuitOpen", "OrderHubUpstreamCircuitOpen"},
    "error rate": {"OrderHubHighErrorRate"},
    "p95 latency": {"OrderHubHighLatencyP95"},
    "projection lag": {"OrderHubProjectionLag"},
    # Issue 25, item 7.
    "ingestion stalled": {"OrderHubIngestionStalled"},
    "Kafka down": {"OrderHubKafkaDown"},
    "write-backs failing or piling up": {"OrderHubWriteBacksFailing", "OrderHubWriteBacksPilingUp"},
    "query side drifting from the store": {"OrderHubQuerySideDrift"},
    "pods unready": {"OrderHubPodsUnready"},
}
SUFFIXES = {"counter": ["_total"], "histogram": ["_bucket", "_count", "_sum"]}
# Series the services do not declare: Prometheus's own and kube-state-metrics' (installed with
# the cluster's monitoring).
EXTERNAL_SERIES = {"up", "kube_pod_status_ready", "kube_pod_status_phase"}
COUNTER_SUFFIXES = ("_total", "_bucket", "_count", "_sum")


def series_names(registry: CollectorRegistry) -> set[str]:
    names = set()
    for family in registry.collect():
        for suffix in SUFFIXES.get(family.type, [""]):
            names.add(family.name + suffix)
    return names


def known_series() -> set[str]:
    http = CollectorRegistry()
    app = FastAPI()
    Instrumentator(registry=http, should_group_status_codes=False).instrument(app)
    TestClient(app).get("/")  # the instrumentation declares its metrics when it first runs
    return series_names(REGISTRY) | series_names(http) | EXTERNAL_SERIES


def selectors(node: Any) -> Iterator[str]:
    if isinstance(node, promql_parser.VectorSelector) and node.name:
        yield node.name
    for attribute in ("lhs", "rhs", "expr", "vector_selector", "param"):
        child = getattr(node, attribute, None)
        if isinstance(child, promql_parser.Expr):
            yield from selectors(child)
    for arg in getattr(node, "args", None) or []:
        yield from selectors(arg)


@pytest.fixture(scope="module")
def rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_every_alert_is_complete(rules: list[dict[str, Any]]) -> None:
    for rule in rules:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule["alert"]
        assert re.fullmatch(r"OrderHub[A-Z][A-Za-z0-9]+", rule["alert"])
        assert rule["labels"]["severity"] in {"warning", "critical"}
        assert {"summary", "description", "runbook_url"} <= set(rule["annotations"])
        assert re.fullmatch(r"\d+[smh]", rule.get("for", "0s"))


def test_every_expression_is_promql_over_metrics_the_services_export(
    rules: list[dict[str, Any]],
) -> None:
    known = known_series()
    unknown = {}
    for rule in rules:
        names = set(selectors(promql_parser.parse(rule["expr"])))
        assert names, f"{rule['alert']} reads no metric"
        if names - known:
            unknown[rule["alert"]] = sorted(names - known)

    assert unknown == {}


def test_there_is_an_alert_for_each_signal_the_issue_names(rules: list[dict[str, Any]]) -> None:
    names = {rule["alert"] for rule in rules}

    assert {signal: alerts - names for signal, alerts in REQUIRED.items()} == {
        signal: set() for signal in REQUIRED
    }


def test_every_alert_links_its_own_runbook_section(rules: list[dict[str, Any]]) -> None:
    headings = re.findall(r"^## (\S+)$", RUNBOOK.read_text(), flags=re.MULTILINE)

    assert sorted(r["annotations"]["runbook_url"] for r in rules) == sorted(
        f"docs/RUNBOOK.md#{rule['alert'].lower()}" for rule in rules
    )
    assert {r["alert"] for r in rules} <= set(headings)


def first_value(values: str) -> tuple[int, float]:
    """How many samples a promtool input series misses at its start, and its first value
    (promtool's notation: ``_``, ``_x3``, ``1``, ``1+2x10``, ``5x30``)."""
    missing = 0
    for token in values.split():
        blank = re.fullmatch(r"_(?:x(\d+))?", token)
        if blank:
            missing += int(blank.group(1) or 1)
            continue
        start = re.match(r"-?[\d.]+(?:e[+-]?\d+)?", token)
        assert start, f"unread value {token!r}"
        return missing, float(start.group())
    raise AssertionError(f"no value in {values!r}")


def test_every_counter_in_the_rule_tests_is_born_at_its_first_increment() -> None:
    cases = yaml.safe_load(RULE_TESTS.read_text())["tests"]
    counters = [
        (series["series"], str(series["values"]))
        for case in cases
        for series in case["input_series"]
        if series["series"].split("{")[0].endswith(COUNTER_SUFFIXES)
    ]
    assert counters

    born_at_zero = {name: values for name, values in counters if first_value(values)[1] < 1}
    always_there = {name: values for name, values in counters if first_value(values)[0] == 0}
    assert (born_at_zero, always_there) == ({}, {})


def promtool() -> str:
    found = shutil.which("promtool") or next(
        (str(p) for p in sorted((REPO / ".cache" / "bin").glob("promtool-*"))), None
    )
    if found is None:
        message = "no promtool (make promtool builds it once from the Go module proxy)"
        if os.environ.get("ORDERHUB_REQUIRE_PROMTOOL"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def test_promtool_accepts_the_rules_and_the_scrape_configuration() -> None:
    tool = promtool()
    for args in (
        ["check", "rules", str(RULES)],
        ["check", "config", "--syntax-only", str(RULES.parent / "prometheus.yml")],
    ):
        result = subprocess.run([tool, *args], capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout + result.stderr


def test_each_alert_fires_on_its_series_in_promtool_s_rule_tests(
    rules: list[dict[str, Any]],
) -> None:
    tool = promtool()
    tested = {
        alert["alertname"]
        for case in yaml.safe_load(RULE_TESTS.read_text())["tests"]
        for alert in case.get("alert_rule_test", [])
        if alert.get("exp_alerts")
    }
    result = subprocess.run(
        [tool, "test", "rules", str(RULE_TESTS)], capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert tested == {rule["alert"] for rule in rules}
