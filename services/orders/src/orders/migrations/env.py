"""Alembic environment of the orders query side.

``orders-migrate`` (``orders.schema.migrate``) hands its owner's connection and the service's
role over in ``config.attributes``; for developers, ``alembic`` from this folder migrates as
ORDERS_POSTGRES_MIGRATION_URL's role and grants ORDERS_POSTGRES_SERVICE_ROLE (default
``orderhub``).
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from orders.query_side import metadata
from orders.schema import asyncpg_url
from orders.service_role import grant_to_service_role


def _migrate(connection: Connection, service_role: str | None) -> None:
    context.configure(connection=connection, target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()
        if service_role is not None:
            grant_to_service_role(connection, service_role)


async def _migrate_from_environment() -> None:
    engine = create_async_engine(asyncpg_url(os.environ["ORDERS_POSTGRES_MIGRATION_URL"]))
    async with engine.begin() as connection:
        role = os.environ.get("ORDERS_POSTGRES_SERVICE_ROLE", "orderhub")
        await connection.run_sync(_migrate, role)
    await engine.dispose()


given = context.config.attributes.get("connection")
if given is not None:
    _migrate(given, context.config.attributes.get("service_role"))
else:
    asyncio.run(_migrate_from_environment())
