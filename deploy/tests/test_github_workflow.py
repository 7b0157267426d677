"""The GitHub Actions workflow is valid and does what .ci/run and docker-compose.yml do.

It cannot run here; it is validated against the workflow JSON schema that check-jsonschema
vendors (SchemaStore's github-workflow.json), read as YAML 1.2 as GitHub reads it (PyYAML's
YAML 1.1 would take the key ``on`` for ``true``).
"""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml
from ruamel.yaml import YAML

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / ".github" / "workflows" / "ci.yml"


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    loaded: dict[str, Any] = YAML(typ="safe").load(WORKFLOW.read_text())
    return loaded


def test_the_workflow_follows_the_github_workflow_schema(workflow: dict[str, Any]) -> None:
    schema_file = files("check_jsonschema.builtin_schemas.vendor") / "github-workflows.json"
    validator = jsonschema_rs.validator_for(json.loads(schema_file.read_text()))

    errors = [
        f"{'/'.join(map(str, e.instance_path))}: {e.message}"
        for e in validator.iter_errors(workflow)
    ]

    assert errors == []


def test_it_runs_on_pushes_to_main_and_on_pull_requests(workflow: dict[str, Any]) -> None:
    assert workflow["on"]["push"]["branches"] == ["main"]
    assert "pull_request" in workflow["on"]


def test_the_test_job_runs_ci_run_within_ci_s_time(workflow: dict[str, Any]) -> None:
    test = workflow["jobs"]["test"]

    assert [s["run"] for s in test["steps"] if "run" in s][-1] == "bash .ci/run"
    assert test["timeout-minutes"] <= 90


def test_an_image_is_built_for_every_service_as_compose_builds_it(
    workflow: dict[str, Any],
) -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    # A one-shot with a command of its own (orders-migrate) runs a service's image: no image more.
    built = {
        name: service["build"]["args"]
        for name, service in compose["services"].items()
        if "build" in service and "command" not in service
    }
    images = workflow["jobs"]["images"]
    build_step = next(s for s in images["steps"] if s.get("uses", "").startswith("docker/build"))

    matrix = {
        entry["service"]: {
            "SERVICE": entry["service"],
            "PORT": entry["port"],
            **({"WITH_SPA": "yes"} if entry["with_spa"] == "yes" else {}),
        }
        for entry in images["strategy"]["matrix"]["include"]
    }
    assert matrix == built
    assert build_step["with"]["file"] == "services/Dockerfile"
    assert "push" in build_step["with"]
