"""Keeps ``orders_stored`` and ``orders_query_side_rows`` current, so an alert sees the query side
drift from the store (orders the lists, search and stats never show, or still show).

Both counts are cheap whatever the number of orders: MongoDB's estimated count reads the
collection's metadata (no scan), and the query side adds up its running counts per day and
status (``order_day_counts``: a row per day, channel, status and currency). FerretDB answers a
count by decoding every order (DEVELOPING.md: about 20 s of its CPU at 100,000 orders), so on
FerretDB, the local stack's store, the store is not counted and the drift alert stays quiet.
"""

from __future__ import annotations

from loguru import logger
from sqlalchemy import func, select

from orderhub_common.workers import run_probe
from orders import metrics
from orders.documents import OrderDocument
from orders.query_side import QuerySide, order_day_counts


class OrderCountProbe:
    def __init__(
        self, query_side: QuerySide, *, interval_s: float = 60.0, count_on_ferretdb: bool = False
    ) -> None:
        self._query_side = query_side
        self._interval_s = interval_s
        self._count_on_ferretdb = count_on_ferretdb
        self._store_counts_cheaply: bool | None = None

    async def run(self) -> None:
        await run_probe(self.measure, what="order counts", interval_s=self._interval_s)

    async def measure(self) -> tuple[int | None, int]:
        """The orders in the store (None where counting them would scan them) and in the query
        side, as exported."""
        collection = OrderDocument.get_pymongo_collection()
        if self._store_counts_cheaply is None:
            build = await collection.database.command("buildInfo")
            self._store_counts_cheaply = self._count_on_ferretdb or "ferretdbVersion" not in build
            if not self._store_counts_cheaply:
                logger.info("orders_stored is not counted: on FerretDB a count scans every order")
        stored = None
        if self._store_counts_cheaply:
            stored = await collection.estimated_document_count()
            metrics.STORED_ORDERS.set(stored)
        total = select(func.coalesce(func.sum(order_day_counts.c.orders), 0))
        async with self._query_side.engine.connect() as connection:
            projected = int((await connection.execute(total)).scalar_one())
        metrics.QUERY_SIDE_ORDERS.set(projected)
        return stored, projected
