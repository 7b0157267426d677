"""The query side's migrations are a step of their own (``orders-migrate``), never a part of
orders' start-up, where a long backfill outlasted the startup probe and the pod crash-looped:
orders on a database not migrated refuses to start, at once and saying what to run; the command
migrates as the owner and grants the service's role; then orders starts as that role, which
holds no owner's credentials."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient
from sqlalchemy.engine import make_url

from devstack.pytest_plugin import InfraUrls
from orderhub_common.resources import UnusableResourceError
from orders.main import create_app
from orders.query_side import QuerySide
from orders.schema import SchemaBehindError, migrate, migration_scripts

from .conftest import (
    create_database,
    database_url,
    drop_database,
    orders_settings,
    service_database_url,
)

pytestmark = pytest.mark.integration

HEAD = migration_scripts().get_current_head()
MIGRATE = Path(sys.executable).with_name("orders-migrate")


def run_migrate(infra: InfraUrls, name: str) -> subprocess.CompletedProcess[str]:
    """``orders-migrate`` as the Job runs it: the owner's URL and the service's role name only."""
    return subprocess.run(
        [str(MIGRATE)],
        env={
            "PATH": os.environ.get("PATH", ""),
            "ORDERHUB_ENV": "test",
            "ORDERS_POSTGRES_MIGRATION_URL": database_url(infra, name),
            "ORDERS_POSTGRES_SERVICE_ROLE": str(
                make_url(service_database_url(infra, name)).username
            ),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def revision_as(url: str) -> str | None:
    connection = await asyncpg.connect(url)
    try:
        return await connection.fetchval("SELECT version_num FROM alembic_version")
    finally:
        await connection.close()


async def on_database(url: str, statement: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture
async def database(infra: InfraUrls, unique_name: str):  # type: ignore[no-untyped-def]
    await create_database(infra, unique_name)
    yield unique_name
    await drop_database(infra, unique_name)


async def test_orders_on_a_database_not_migrated_refuses_to_start_saying_what_to_run(
    infra: InfraUrls, database: str
) -> None:
    app = create_app(orders_settings(infra, database))
    started = time.monotonic()

    with pytest.raises(SchemaBehindError) as refused:
        async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30):
            pass

    assert str(refused.value) == (
        f"the query side's schema is not migrated (no revision), this release needs {HEAD}: "
        "run orders-migrate (as the schema's owner) before starting orders"
    )
    # At once, not after the start-up's minute of retries; and it migrated nothing itself.
    assert time.monotonic() - started < 20
    owner = await asyncpg.connect(database_url(infra, database))
    try:
        assert await owner.fetchval("SELECT to_regclass('alembic_version')") is None
    finally:
        await owner.close()


async def test_orders_migrate_migrates_grants_and_then_orders_starts_as_the_services_role(
    infra: InfraUrls, database: str
) -> None:
    migrated = run_migrate(infra, database)

    assert migrated.returncode == 0, migrated.stderr
    assert f"migrated from an empty schema to {HEAD}" in migrated.stdout
    # The service's role may read the revision (orders checks it at start), granted by the step.
    assert await revision_as(service_database_url(infra, database)) == HEAD

    settings = orders_settings(infra, database)
    assert "ORDERS_POSTGRES_MIGRATION_URL" not in str(settings.model_dump(by_alias=True))
    app = create_app(settings)
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30):
        transport = ASGITransport(app=app)
        async with AsyncClient(transport=transport, base_url="http://orders") as client:
            ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
        owner = await asyncpg.connect(database_url(infra, database))
        try:
            roles = await owner.fetch(
                "SELECT DISTINCT usename FROM pg_stat_activity"
                " WHERE datname = $1 AND application_name = 'orders'",
                database,
            )
        finally:
            await owner.close()
        assert [r["usename"] for r in roles] == [
            make_url(service_database_url(infra, database)).username
        ]

    again = run_migrate(infra, database)
    assert again.returncode == 0, again.stderr
    assert f"already at {HEAD}" in again.stdout


async def test_orders_refuses_a_schema_an_older_release_left_and_starts_on_a_later_ones(
    infra: InfraUrls, database: str
) -> None:
    owner, service = database_url(infra, database), service_database_url(infra, database)
    role = make_url(service).username
    older = next(r.revision for r in migration_scripts().walk_revisions() if r.revision != HEAD)
    await migrate(owner, role, revision=older)
    behind = QuerySide(service)
    try:
        with pytest.raises(SchemaBehindError, match=f"at revision {older}, this release needs"):
            await behind.connect()
    finally:
        await behind.close()

    await migrate(owner, role)
    # A later release's migration, then this release rolled back onto it.
    await on_database(owner, "UPDATE alembic_version SET version_num = '0099_a_later_release'")
    rolled_back = QuerySide(service)
    try:
        await rolled_back.connect()
    finally:
        await rolled_back.close()


async def test_a_role_the_step_did_not_grant_is_told_to_run_it(
    infra: InfraUrls, database: str
) -> None:
    if infra.postgres_service_url is None:
        pytest.skip("this PostgreSQL has no role for the services apart from the owner")
    owner, service = database_url(infra, database), service_database_url(infra, database)
    await migrate(owner, make_url(service).username)
    # As a release before this one left it: the service's role could not read the revision.
    await on_database(owner, f"REVOKE ALL ON alembic_version FROM {make_url(service).username}")
    query_side = QuerySide(service)
    try:
        with pytest.raises(UnusableResourceError, match=r"may not read .* run orders-migrate"):
            await query_side.connect()
    finally:
        await query_side.close()
