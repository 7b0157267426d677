"""Alembic environment of the orders query side.

The service migrates itself on start (``QuerySide.connect`` hands its owner's connection and the
service's role over in ``config.attributes``); for developers, ``alembic`` from this folder
migrates as ORDERS_POSTGRES_MIGRATION_URL's role and grants ORDERS_POSTGRES_URL's.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import create_async_engine

from orders.query_side import asyncpg_url, metadata
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
        await connection.run_sync(_migrate, make_url(os.environ["ORDERS_POSTGRES_URL"]).username)
    await engine.dispose()


given = context.config.attributes.get("connection")
if given is not None:
    _migrate(given, context.config.attributes.get("service_role"))
else:
    asyncio.run(_migrate_from_environment())
