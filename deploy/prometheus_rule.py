"""The Prometheus Operator's PrometheusRule for the alert rules, generated from alerts.yml.

    make prometheus-rule

(``python -m deploy.prometheus_rule``, written to
deploy/kubernetes/components/monitoring/prometheus-rule.yaml.) deploy/prometheus/alerts.yml
stays the one place the rules are written (promtool checks and tests it); kustomize cannot wrap
a file's content into a resource's ``spec``, so the PrometheusRule is this script's output, and
``deploy/tests/test_kubernetes_manifests.py`` fails when its groups differ from the file's.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
ALERTS = REPO / "deploy" / "prometheus" / "alerts.yml"
NAME = "orderhub-alerts"

HEADER = """\
# Generated from deploy/prometheus/alerts.yml by `make prometheus-rule`: edit that file, then
# run it (deploy/tests/test_kubernetes_manifests.py fails when the two differ).
"""


class _BlockStyleDumper(yaml.SafeDumper):
    """Multi-line strings (the longer expressions) as literal blocks, as alerts.yml writes them."""


def _string(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockStyleDumper.add_representer(str, _string)


def prometheus_rule() -> dict[str, Any]:
    groups = yaml.safe_load(ALERTS.read_text())["groups"]
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": NAME, "labels": {"app.kubernetes.io/name": NAME}},
        "spec": {"groups": groups},
    }


def render() -> str:
    body = yaml.dump(
        prometheus_rule(),
        Dumper=_BlockStyleDumper,
        sort_keys=False,
        width=1000,
        allow_unicode=True,
    )
    return HEADER + body


if __name__ == "__main__":
    sys.stdout.write(render())
