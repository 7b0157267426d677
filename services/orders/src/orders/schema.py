"""The query side's schema: migrating it, a step of its own, and checking it when orders starts.

Migrations run before a release's services start, never inside their start-up: a backfill of a
large table outlasts any startup probe, which would kill it on every try (a crash loop). The
step is ``orders-migrate`` (``orders.migrate``): the Kubernetes Job of that name, compose's
one-shot service, and a step of ``make up`` once PostgreSQL is up. It works as the schema's
owner and grants the service's role what it may do (``service_role.py``), in one transaction.

The service itself holds no owner's credentials: at start it reads the schema's revision as its
own role and refuses to start on a schema older than its release needs, saying so. A revision it
does not know is a later release's (this one was rolled back): it starts, because every
migration keeps the release before it working (expand/contract, docs/DEVELOPING.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from loguru import logger
from sqlalchemy import column, func, select, table, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from orderhub_common.resources import UnusableResourceError
from orders.service_role import ALEMBIC_TABLE

MIGRATIONS = Path(__file__).parent / "migrations"
# Two runs of the migration step at once (a Job retried while its first pod still runs) take
# turns.
MIGRATION_LOCK = 0x0D5E_0002
MIGRATE_COMMAND = "orders-migrate"


def asyncpg_url(url: str) -> str:
    """``postgresql://...`` as configured, with the driver SQLAlchemy needs."""
    return make_url(url).set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def migration_scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def upgrade_schema_to(
    connection: Connection, revision: str = "head", *, service_role: str | None = None
) -> None:
    """Migrates the schema over ``connection`` (its owner's), then grants ``service_role`` what
    the service may do (``service_role.py``)."""
    config = _config()
    config.attributes["connection"] = connection
    config.attributes["service_role"] = service_role
    command.upgrade(config, revision)


async def current_revision(engine: AsyncEngine) -> str | None:
    """The schema's revision as Alembic recorded it; None for a database never migrated."""
    async with engine.connect() as connection:
        return await connection.run_sync(_revision_of)


@dataclass(frozen=True)
class Migrated:
    before: str | None
    after: str | None


async def migrate(
    owner_url: str,
    service_role: str | None,
    *,
    revision: str = "head",
    lock_timeout_ms: int = 5000,
) -> Migrated:
    """Brings the schema to ``revision`` as its owner (``owner_url``) and grants ``service_role``
    its privileges, in one transaction; idempotent. A statement of a migration may run as long
    as it needs; waiting for a table lock a running release holds does not (``lock_timeout_ms``,
    then it fails and may be run again), since every query of the service would queue behind it.
    """
    engine = create_async_engine(
        asyncpg_url(owner_url),
        poolclass=NullPool,
        connect_args={"server_settings": {"application_name": MIGRATE_COMMAND}},
    )
    try:
        async with engine.begin() as connection:
            await connection.execute(text("SET LOCAL lock_timeout = 0"))
            await connection.execute(text(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
            # A migration may rewrite every row: a time limit set for the role or the database
            # would cancel it on every try once the table is large.
            await connection.execute(text("SET LOCAL statement_timeout = 0"))
            await connection.execute(text(f"SET LOCAL lock_timeout = {int(lock_timeout_ms)}"))
            before = await connection.run_sync(_revision_of)
            await connection.run_sync(
                lambda sync: upgrade_schema_to(sync, revision, service_role=service_role)
            )
            after = await connection.run_sync(_revision_of)
        return Migrated(before, after)
    finally:
        await engine.dispose()


def _revision_of(connection: Connection) -> str | None:
    if connection.scalar(select(func.to_regclass(ALEMBIC_TABLE))) is None:
        return None
    return connection.scalar(select(column("version_num")).select_from(table(ALEMBIC_TABLE)))


# Checked at start -------------------------------------------------------------------------------
class SchemaBehindError(UnusableResourceError):
    """The schema is older than this release needs: the migration step has not run."""

    def __init__(self, current: str | None, needed: str) -> None:
        self.current, self.needed = current, needed
        at = f"at revision {current}" if current else "not migrated (no revision)"
        super().__init__(
            f"the query side's schema is {at}, this release needs {needed}: "
            f"run {MIGRATE_COMMAND} (as the schema's owner) before starting orders"
        )


def check_revision(current: str | None, scripts: ScriptDirectory) -> str | None:
    """Whether this release may work on a schema at ``current``: raises ``SchemaBehindError``
    when it is older than this release's head; returns what to log when it is a revision this
    release does not know (a later release's); None when it is this release's own."""
    needed = scripts.get_current_head()
    if needed is None:
        raise ValueError(f"no migrations in {scripts.dir}")
    if current == needed:
        return None
    known = {script.revision for script in scripts.walk_revisions()}
    if current is None or current in known:
        raise SchemaBehindError(current, needed)
    return (
        f"the query side's schema is at revision {current}, which this release does not know "
        f"(it needs {needed}): a later release migrated it; starting, as every migration keeps "
        "the release before it working"
    )


async def require_schema_revision(engine: AsyncEngine, scripts: ScriptDirectory) -> None:
    """Refuses (``UnusableResourceError``) to work on a schema this release cannot use; reads
    it as the service's own role."""
    try:
        current = await current_revision(engine)
    except DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) != "42501":  # insufficient_privilege
            raise
        role = engine.url.username
        raise UnusableResourceError(
            f"the role {role} may not read the query side's schema revision ({ALEMBIC_TABLE}): "
            f"run {MIGRATE_COMMAND} with ORDERS_POSTGRES_SERVICE_ROLE={role}, which grants it"
        ) from None
    note = check_revision(current, scripts)
    if note is not None:
        logger.warning(note)
