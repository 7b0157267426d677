"""Projection writers on several replicas at once, against a real PostgreSQL: writes of different
orders go side by side, writes of one order queue and keep the newest revision, and the running
day counts stay exact however the writes interleave."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from devstack.pytest_plugin import InfraUrls
from orderhub_common.events import OrderStatus
from orders.query_side import ProjectedOrder, QuerySide, order_rows
from orders.query_side import projection as query_side_module

from .conftest import T0, service_database_url
from .test_query_side import counts_from_rows, order

pytestmark = pytest.mark.integration


@pytest.fixture
async def other_replica(infra: InfraUrls, unique_name: str, query_side: QuerySide) -> Any:
    """Opens the test's migrated query side as another replica would (its own pool);
    ``statement_timeout_ms`` also bounds how long it waits for a lock."""
    opened: list[QuerySide] = []

    def replica(statement_timeout_ms: int = 5000) -> QuerySide:
        other = QuerySide(
            service_database_url(infra, unique_name), statement_timeout_ms=statement_timeout_ms
        )
        opened.append(other)
        return other

    yield replica
    for other in opened:
        await other.close()


@pytest.fixture
async def paused_before_counts(
    query_side: QuerySide, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[asyncio.Event, asyncio.Event]]:
    """Holds each projection of ``query_side`` (not of other replicas) inside its transaction,
    its rows written and its counts not yet moved, until ``release`` is set."""
    paused, release = asyncio.Event(), asyncio.Event()
    add_to_counts = query_side_module._add_to_counts

    async def pausing(connection: Any, changes: Any) -> None:
        if connection.engine.sync_engine is query_side.engine.sync_engine:
            paused.set()
            await release.wait()
        await add_to_counts(connection, changes)

    monkeypatch.setattr(query_side_module, "_add_to_counts", pausing)
    yield paused, release
    release.set()


async def test_a_write_of_one_order_does_not_wait_for_another_orders_write_in_flight(
    query_side: QuerySide,
    other_replica: Any,
    paused_before_counts: tuple[asyncio.Event, asyncio.Event],
) -> None:
    paused, release = paused_before_counts
    # Any wait for a lock ends in an error after 2 s (its lock and statement time limits).
    other = other_replica(statement_timeout_ms=2000)
    first = asyncio.create_task(query_side.project([ProjectedOrder(order(1), 1)]))
    await paused.wait()

    # Another order, on another replica, while the first write's transaction is open.
    assert await other.project([ProjectedOrder(order(2), 1)]) == 1
    assert await other.project([ProjectedOrder(order(3, status=OrderStatus.CONFIRMED), 1)]) == 1
    # The same order queues behind the write in flight.
    with pytest.raises(DBAPIError, match=r"canceling statement due to (lock|statement) timeout"):
        await other.project([ProjectedOrder(order(1, status=OrderStatus.CONFIRMED), 2)])

    release.set()
    assert await first == 1
    assert await other.project([ProjectedOrder(order(1, status=OrderStatus.CONFIRMED), 2)]) == 1
    assert await query_side.project([ProjectedOrder(order(1), 1)]) == 0
    grouped, running = await counts_from_rows(query_side)
    assert grouped == running
    assert sum(row[4] for row in running) == 3


async def test_concurrent_writers_keep_each_orders_newest_revision_and_exact_day_counts(
    query_side: QuerySide, other_replica: Any
) -> None:
    writers = [query_side, other_replica(), other_replica()]
    rng = random.Random(25)
    statuses = list(OrderStatus)
    orders = range(1, 81)
    revisions = 6
    # Each revision may move the order to another status, currency and day: every write moves
    # two groups' counts, and the groups overlap across writers.
    versions = {
        (n, revision): ProjectedOrder(
            order(
                n,
                status=rng.choice(statuses),
                currency=rng.choice(["INR", "USD"]),
                placed_at=T0 + timedelta(days=rng.randrange(4), minutes=n),
                total=float(rng.randrange(100, 5000)),
            ),
            revision,
        )
        for n in orders
        for revision in range(1, revisions + 1)
    }
    deliveries = [*versions.values(), *rng.sample([*versions.values()], 200)]  # redeliveries
    rng.shuffle(deliveries)
    batches: list[list[ProjectedOrder]] = []
    while deliveries:
        size = rng.randrange(1, 40)
        batches.append(deliveries[:size])
        deliveries = deliveries[size:]

    async def write(n: int, batch: list[ProjectedOrder]) -> int:
        return await writers[n % len(writers)].project(batch)

    applied = await asyncio.gather(*(write(n, batch) for n, batch in enumerate(batches)))

    assert sum(applied) >= len(orders)
    async with query_side.engine.connect() as connection:
        rows = await connection.execute(
            select(order_rows.c.id, order_rows.c.revision, order_rows.c.status)
        )
        stored = {order_id: (revision, status) for order_id, revision, status in rows}
    newest = {
        versions[n, revisions].order.id: (revisions, versions[n, revisions].order.status.value)
        for n in orders
    }
    assert stored == newest
    grouped, running = await counts_from_rows(query_side)
    assert grouped == running
    assert sum(row[4] for row in running) == len(orders)
