"""The role the orders service works as, against real PostgreSQL: it reads and writes the query
side, but it owns nothing, so it can neither disable, alter nor drop the audit log's append-only
trigger, nor change or remove an audit record, nor create anything. The schema's owner runs the
migrations and grants it this (``orders.service_role``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from devstack.pytest_plugin import InfraUrls
from orders.audit_log import AuditLog
from orders.query_side import ProjectedOrder, QuerySide, WorkStore
from orders.schemas import AuditQuery, OrderListQuery

from .conftest import database_url, service_database_url
from .test_audit_keeper import a_record
from .test_query_side import order

pytestmark = pytest.mark.integration


@pytest.fixture
async def as_service(
    query_side: QuerySide, infra: InfraUrls, unique_name: str
) -> AsyncIterator[asyncpg.Connection]:
    """A connection to the migrated test database as the service's role."""
    if infra.postgres_service_url is None:
        pytest.skip("this PostgreSQL has no role for the services apart from the owner")
    connection = await asyncpg.connect(service_database_url(infra, unique_name))
    try:
        yield connection
    finally:
        await connection.close()


@pytest.fixture
async def as_owner(
    query_side: QuerySide, infra: InfraUrls, unique_name: str
) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(database_url(infra, unique_name))
    try:
        yield connection
    finally:
        await connection.close()


async def test_the_service_reads_and_writes_orders_and_the_audit_log_as_its_own_role(
    query_side: QuerySide, as_service: asyncpg.Connection
) -> None:
    async with query_side.engine.connect() as connection:
        role = (await connection.exec_driver_sql("SELECT current_user")).scalar_one()
    assert role == await as_service.fetchval("SELECT current_user")
    assert not await as_service.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = $1", role)

    first, second = order(1), order(2)
    assert await query_side.project([ProjectedOrder(first, 1), ProjectedOrder(second, 1)]) == 2
    page = await query_side.page(OrderListQuery())
    assert {o.id for o in page.orders} == {first.id, second.id}
    log = AuditLog(WorkStore(query_side))
    assert await log.keep([a_record()]) == 1
    assert (await log.page(AuditQuery())).pagination.total == 1
    # orders-rebuild-query-side empties the projection before projecting every order again.
    await query_side.clear()
    assert (await query_side.page(OrderListQuery())).total == 0


@pytest.mark.parametrize(
    "statement",
    [
        "ALTER TABLE audit_records DISABLE TRIGGER audit_records_append_only",
        "ALTER TABLE audit_records DISABLE TRIGGER ALL",
        "DROP TRIGGER audit_records_append_only ON audit_records",
        "DROP TABLE audit_records",
        "ALTER TABLE audit_records OWNER TO CURRENT_USER",
        "CREATE OR REPLACE FUNCTION audit_records_append_only() RETURNS trigger"
        " LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
        "SET session_replication_role = replica",
    ],
)
async def test_the_services_role_cannot_disable_alter_or_drop_the_audit_trigger(
    as_service: asyncpg.Connection, statement: str
) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await as_service.execute(statement)
    enabled = await as_service.fetchval(
        "SELECT tgenabled::text FROM pg_trigger WHERE tgname = 'audit_records_append_only'"
    )
    assert enabled == "O"


async def test_the_services_role_cannot_change_or_remove_audit_records(
    query_side: QuerySide, as_service: asyncpg.Connection
) -> None:
    log = AuditLog(WorkStore(query_side))
    assert await log.keep([a_record(), a_record(action="user.signed_out")]) == 2
    for statement in (
        "UPDATE audit_records SET action = 'user.role_changed'",
        "DELETE FROM audit_records",
        "TRUNCATE audit_records",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await as_service.execute(statement)
    assert (await log.page(AuditQuery())).pagination.total == 2


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE TABLE forged (id text)",
        "CREATE FUNCTION forged() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        "CREATE SCHEMA forged",
        "UPDATE alembic_version SET version_num = 'forged'",
        "DELETE FROM alembic_version",
        "INSERT INTO alembic_version VALUES ('forged')",
    ],
)
async def test_the_services_role_cannot_create_anything_or_move_the_schemas_revision(
    as_service: asyncpg.Connection, statement: str
) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await as_service.execute(statement)


async def test_a_table_a_later_migration_creates_is_the_services_to_use(
    as_owner: asyncpg.Connection, as_service: asyncpg.Connection
) -> None:
    # As a migration does, the owner creating it: default privileges reach the service's role.
    await as_owner.execute("CREATE TABLE later_table (id bigserial PRIMARY KEY, note text)")
    await as_service.execute("INSERT INTO later_table (note) VALUES ('a'), ('b')")
    await as_service.execute("UPDATE later_table SET note = 'c' WHERE id = 1")
    await as_service.execute("DELETE FROM later_table WHERE id = 2")
    assert await as_service.fetch("SELECT id, note FROM later_table") == [(1, "c")]
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await as_service.execute("ALTER TABLE later_table ADD COLUMN extra text")
