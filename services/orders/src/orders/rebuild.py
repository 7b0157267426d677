"""``orders-rebuild-query-side``: rewrites the query side from MongoDB, the system of record.

For after a restore, a lost PostgreSQL, or a change to how rows are made. The service may keep
running meanwhile: the projection is emptied, then every stored order is projected again, and
the revision check keeps whichever of a live change and the rebuild's copy is newer. Lists show
fewer orders until it finishes.
"""

from __future__ import annotations

import asyncio
import time

import pymongo

from orderhub_common.app import connect_with_retries
from orderhub_common.logging import configure_logging
from orderhub_common.settings import load_settings
from orders.main import SERVICE, mongo_resource, query_side_from
from orders.query_side import ProjectedOrder, QuerySide
from orders.repository import OrderRepository
from orders.settings import OrdersSettings


async def rebuild_query_side(repository: OrderRepository, query_side: QuerySide) -> int:
    """Empties the projection and projects every stored order; returns how many."""
    await query_side.clear()
    projected = 0
    # Reading every order takes longer than any one request may: no operation deadline here.
    with pymongo.timeout(None):
        async for batch in repository.all_orders():
            await query_side.project(ProjectedOrder(s.order, s.revision) for s in batch)
            projected += len(batch)
    return projected


async def _rebuild(settings: OrdersSettings) -> None:
    mongo = mongo_resource(settings)
    query_side = query_side_from(settings)
    for resource in (mongo, query_side):
        await connect_with_retries(resource, settings.startup_timeout_s)
    started = time.monotonic()
    try:
        projected = await rebuild_query_side(OrderRepository(), query_side)
    finally:
        await query_side.close()
        await mongo.close()
    print(f"rebuilt the query side: {projected} orders in {time.monotonic() - started:.1f}s")


def run() -> None:
    settings = load_settings(OrdersSettings)
    configure_logging(SERVICE, settings.log_level)
    asyncio.run(_rebuild(settings))
