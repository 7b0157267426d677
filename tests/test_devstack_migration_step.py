"""``make up`` (and the test stack) migrate the orders query side as a step of their own, once
PostgreSQL is up and before orders starts, with the schema owner's credentials given to that step
alone: no service of the local stack holds the owner's password (issue 25, item 6)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from devstack import install, postgres, profiles
from devstack.addresses import Addresses
from devstack.components import BY_NAME, COMPONENTS, Site

pytestmark = pytest.mark.unit


def test_no_service_of_the_local_stack_gets_the_owners_password() -> None:
    profile = profiles.test_profile()
    owner_password = profile.environment[postgres.OWNER_PASSWORD_VARIABLE]

    environment = Addresses(profile).service_environment()

    assert "ORDERS_POSTGRES_MIGRATION_URL" not in environment
    assert [name for name, value in environment.items() if owner_password in value] == []
    assert environment["ORDERS_POSTGRES_URL"].startswith(f"postgresql://{postgres.ROLE}:")


def test_postgres_is_migrated_by_orders_migrate_once_up_and_before_orders_starts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    profile = profiles.test_profile()
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(postgres, "provision", lambda *args, **kwargs: calls.append(("roles",)))

    def run_checked(*args: Any, env: dict[str, str] | None = None, **_: Any) -> str:
        calls.append((*args, env))
        return "orders-migrate: migrated from an empty schema to 0007\n"

    monkeypatch.setattr(install, "run_checked", run_checked)
    site = Site(
        name="postgres",
        port=profile.port("postgres"),
        ports=profile.ports,
        data_dir=tmp_path,
        run_dir=tmp_path,
        environment=profile.environment,
        durable=False,
    )

    provision = BY_NAME["postgres"].provision
    assert provision is not None
    provision(site)

    assert calls[0] == ("roles",)
    command, environment = calls[1][0], calls[1][-1]
    assert Path(command).name == "orders-migrate"
    assert environment["ORDERS_POSTGRES_MIGRATION_URL"] == postgres.url(
        postgres.OWNER,
        profile.environment[postgres.OWNER_PASSWORD_VARIABLE],
        profile.port("postgres"),
    )
    assert environment["ORDERS_POSTGRES_SERVICE_ROLE"] == postgres.ROLE
    order = [c.name for c in COMPONENTS]
    assert order.index("postgres") < order.index("orders")
