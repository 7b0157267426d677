"""``orders-rebuild-query-side``: rewrites the query side from MongoDB, the system of record.

For after a restore, a lost PostgreSQL, or a change to how rows are made. The service may keep
running meanwhile: the projection is emptied, then every stored order is projected again, and
the revision check keeps whichever of a live change and the rebuild's copy is newer. Lists show
fewer orders until it finishes.
"""

from __future__ import annotations

import argparse
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
    projected = 0
    # Reading every order takes longer than any one request may: no operation deadline here.
    with pymongo.timeout(None):
        batches = aiter(repository.all_orders())
        # Read before anything is emptied: a store that cannot be read (wrong credentials, say)
        # leaves the projection as it was, not empty.
        batch = await anext(batches, None)
        await query_side.clear()
        while batch is not None:
            await query_side.project(ProjectedOrder(s.order, s.revision) for s in batch)
            projected += len(batch)
            batch = await anext(batches, None)
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
    argparse.ArgumentParser(
        prog="orders-rebuild-query-side",
        description=__doc__,
        epilog="Reads the orders service's settings from the environment (ORDERS_*, MONGODB_*); "
        "on the local stack: .venv/bin/python -m devstack.cli run orders-rebuild-query-side",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    ).parse_args()
    settings = load_settings(OrdersSettings)
    configure_logging(SERVICE, settings.log_level)
    asyncio.run(_rebuild(settings))
