"""Alembic environment of the orders query side.

The service migrates itself on start (``QuerySide.connect`` hands its connection over in
``config.attributes``); for developers, ``alembic`` from this folder uses ORDERS_POSTGRES_URL.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from orders.query_side import asyncpg_url, metadata


def _migrate(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()


async def _migrate_from_environment() -> None:
    engine = create_async_engine(asyncpg_url(os.environ["ORDERS_POSTGRES_URL"]))
    async with engine.begin() as connection:
        await connection.run_sync(_migrate)
    await engine.dispose()


given = context.config.attributes.get("connection")
if given is not None:
    _migrate(given)
else:
    asyncio.run(_migrate_from_environment())
