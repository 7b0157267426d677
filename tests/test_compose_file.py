"""docker-compose.yml is a valid Compose file, and every service is built from the one Dockerfile.

Validated against the Compose Specification's JSON schema (``../shared/schemas/compose-spec.json``),
so it runs where no Compose plugin does; ``docker compose config`` is the reference where it runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml

from auth.settings import AuthSettings
from gateway.settings import GatewaySettings
from ingest.settings import IngestSettings
from mock_channels.settings import MockChannelsSettings
from orders.settings import OrdersSettings

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[1]
COMPOSE_FILE = REPO / "docker-compose.yml"
SCHEMA = REPO.parent / "shared" / "schemas" / "compose-spec.json"
DOCKERFILE = "services/Dockerfile"

# Compose service name -> (workspace package, its settings class).
SERVICES: dict[str, tuple[str, Any]] = {
    "auth": ("auth", AuthSettings),
    "orders": ("orders", OrdersSettings),
    "ingest": ("ingest", IngestSettings),
    "gateway": ("gateway", GatewaySettings),
    "mock-channels": ("mock-channels", MockChannelsSettings),
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return loaded


def test_the_compose_file_follows_the_compose_specification(compose: dict[str, Any]) -> None:
    if not SCHEMA.exists():
        pytest.skip(f"no Compose schema at {SCHEMA}")
    validator = jsonschema_rs.validator_for(json.loads(SCHEMA.read_text()))

    errors = [
        f"{'/'.join(map(str, e.instance_path))}: {e.message}"
        for e in validator.iter_errors(compose)
    ]

    assert errors == []


@pytest.mark.parametrize("name", SERVICES)
def test_every_service_is_built_from_the_one_dockerfile_with_its_package_and_port(
    compose: dict[str, Any], name: str
) -> None:
    package, settings_class = SERVICES[name]
    build = compose["services"][name]["build"]

    assert (build["context"], build["dockerfile"]) == (".", DOCKERFILE)
    assert build["args"]["SERVICE"] == package
    assert int(build["args"]["PORT"]) == settings_class.model_fields["port"].default
    assert (build["args"].get("WITH_SPA") == "yes") == (name == "gateway"), "only the gateway"


def test_no_service_has_a_dockerfile_of_its_own() -> None:
    assert (REPO / DOCKERFILE).is_file()
    assert sorted(REPO.glob("services/*/Dockerfile")) == []


def test_orders_reaches_the_postgres_of_the_stack(compose: dict[str, Any]) -> None:
    postgres = compose["services"]["postgres"]
    orders = compose["services"]["orders"]

    assert postgres["image"].startswith("postgres:16")
    assert postgres["environment"]["POSTGRES_USER"] == "orderhub"
    assert postgres["environment"]["POSTGRES_DB"] == "orderhub_orders"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert orders["depends_on"]["postgres"] == {"condition": "service_healthy"}
    assert orders["environment"]["ORDERS_POSTGRES_URL"].endswith("@postgres:5432/orderhub_orders")
