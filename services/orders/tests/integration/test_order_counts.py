"""The store's and the query side's order counts that the drift alert compares (issue 25,
item 7): equal once the pipeline has processed its orders, and apart when the query side misses
one."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from devstack.components import runs_ferretdb
from orderhub_common.testing import channel_order
from orders import metrics
from orders.order_counts import OrderCountProbe
from orders.query_side import order_day_counts

from .conftest import Pipeline

pytestmark = pytest.mark.integration


async def test_the_store_and_the_query_side_count_the_same_orders(pipeline: Pipeline) -> None:
    for external_id in ("WEB-1", "WEB-2", "WEB-3"):
        await pipeline.send(channel_order(external_id, channel="website"))
    await pipeline.send(channel_order("AMZ-1", channel="amazon"))
    await pipeline.settle()
    # A handful of orders: cheap to count even where a count scans them (FerretDB).
    probe = OrderCountProbe(pipeline.query_side, count_on_ferretdb=True)

    stored, projected = await probe.measure()

    assert stored == projected >= 4  # and the pipeline's own sentinel orders
    exported = metrics.STORED_ORDERS._value.get(), metrics.QUERY_SIDE_ORDERS._value.get()
    assert exported == (stored, projected)

    # A projection lost on the way: the query side counts one order fewer.
    async with pipeline.query_side.engine.begin() as connection:
        await connection.execute(
            update(order_day_counts)
            .where(order_day_counts.c.channel == "amazon")
            .values(orders=order_day_counts.c.orders - 1)
        )

    assert await probe.measure() == (stored, stored - 1)


@pytest.mark.skipif(not runs_ferretdb(), reason="the store is MongoDB, which counts cheaply")
async def test_on_ferretdb_the_store_is_not_counted_since_a_count_scans_every_order(
    pipeline: Pipeline,
) -> None:
    await pipeline.send(channel_order("WEB-1", channel="website"))
    await pipeline.settle()

    stored, projected = await OrderCountProbe(pipeline.query_side).measure()

    assert (stored, projected >= 1) == (None, True)
