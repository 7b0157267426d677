"""``orders-migrate``: brings the query side's schema to this release's revision, as its owner,
and grants the orders service's role what it may do; then exits. Idempotent.

Run it before the release's orders replicas start: the Kubernetes Job ``orders-migrate``
(docs/DEPLOYMENT.md), compose's one-shot ``orders-migrate`` service, and ``make up`` (a step once
PostgreSQL is up). Orders refuses to start on a schema older than it needs. Every migration
keeps the release before it working (expand/contract, docs/DEVELOPING.md), so the old replicas
serve on while it runs.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_fixed

from orderhub_common.logging import configure_logging
from orderhub_common.settings import load_settings
from orders.schema import MIGRATE_COMMAND, asyncpg_url, migrate
from orders.settings import OrdersMigrationSettings

LOCK_NOT_AVAILABLE = "55P03"


async def _wait_for_postgres(url: str, timeout_s: float) -> None:
    """PostgreSQL may still be starting (a Job started beside it): wait for it, not longer."""
    engine = create_async_engine(asyncpg_url(url), poolclass=NullPool)
    try:
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type((OSError, OperationalError, InterfaceError)),
            stop=stop_after_delay(timeout_s),
            wait=wait_fixed(1),
            reraise=True,
        ):
            with attempt:
                async with engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))
    finally:
        await engine.dispose()


async def _migrate(settings: OrdersMigrationSettings) -> None:
    url = settings.postgres_migration_url.get_secret_value()
    parsed = make_url(url)
    role = settings.postgres_service_role
    print(
        f"{MIGRATE_COMMAND}: migrating the query side {parsed.database} on {parsed.host} as "
        f"{parsed.username}, for the role {role}",
        flush=True,
    )
    await _wait_for_postgres(url, settings.startup_timeout_s)
    started = time.monotonic()
    migrated = await migrate(url, role, lock_timeout_ms=settings.migration_lock_timeout_ms)
    took = time.monotonic() - started
    if migrated.before == migrated.after:
        print(f"{MIGRATE_COMMAND}: already at {migrated.after}; granted {role} ({took:.1f}s)")
    else:
        print(
            f"{MIGRATE_COMMAND}: migrated from {migrated.before or 'an empty schema'} to "
            f"{migrated.after} in {took:.1f}s; granted {role}"
        )


def run() -> None:
    argparse.ArgumentParser(
        prog=MIGRATE_COMMAND,
        description=__doc__,
        epilog="Reads ORDERS_POSTGRES_MIGRATION_URL (the schema's owner) and "
        "ORDERS_POSTGRES_SERVICE_ROLE from the environment; on the local stack `make up` runs it.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    ).parse_args()
    settings = load_settings(OrdersMigrationSettings)
    configure_logging(MIGRATE_COMMAND, settings.log_level)
    try:
        asyncio.run(_migrate(settings))
    except DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
            raise
        print(
            f"{MIGRATE_COMMAND}: a running query held a table the migration needs for longer "
            f"than {settings.migration_lock_timeout_ms} ms; nothing changed: run it again",
            file=sys.stderr,
        )
        raise SystemExit(1) from None
