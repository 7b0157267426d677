"""The PostgreSQL projection (``QuerySide``): its one write, ``project``, which moves the rows
and the day counts together under per-order locks, and the reads it answers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import orjson
from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from orderhub_common.events import Order
from orderhub_common.logging import utc_now
from orderhub_common.resources import Resource
from orders import metrics
from orders.query_side.dead_letter_rows import DeadLetterRows
from orders.query_side.keyset import Explained, ListPage, offset_page_statement, read_page
from orders.query_side.order_queries import (
    ORDER_DOCUMENT,
    OrderPageRows,
    ServedOrder,
    count_statement,
    customer_orders_statement,
    fold_stats,
    matching_statement,
    search_text,
    stats_statement,
)
from orders.query_side.tables import (
    ORDER_DOCUMENT_LAYOUT,
    order_day_counts,
    order_rows,
    order_tag_counts,
)
from orders.schema import asyncpg_url, migration_scripts, require_schema_revision
from orders.schemas import OrderFilters, OrderListQuery, OrderStats

# Orders per projection transaction, and rows per upsert statement: 15 parameters a row, well
# inside PostgreSQL's 32,767. A transaction holds one advisory lock per order: bounded so that
# every replica's writers together stay inside the server's lock table (64 per connection).
_ROWS_PER_STATEMENT = 500
# Every argument of one call locks in the order given: the keys come sorted.
_LOCK_ORDERS = text(
    "SELECT count(pg_advisory_xact_lock(key)) FROM unnest(CAST(:keys AS bigint[])) AS key"
)


@dataclass(frozen=True)
class ProjectedOrder:
    """An order as of one revision: what a query-side row is made from."""

    order: Order
    revision: int


def row_values(projected: ProjectedOrder, projected_at: Any) -> dict[str, Any]:
    order = projected.order
    return {
        "id": order.id,
        "revision": projected.revision,
        "channel": order.channel.value,
        "external_id": order.external_id,
        "status": order.status.value,
        "total": order.total,
        "currency": order.currency,
        "placed_at": order.placed_at,
        "updated_at": order.updated_at,
        "search_text": search_text(order),
        "document": order.model_dump(mode="json"),
        "projected_at": projected_at,
        "tags": list(order.tags),
        "customer_phone": order.customer.phone,
        "customer_email": order.customer.email.casefold() if order.customer.email else None,
        "document_layout": ORDER_DOCUMENT_LAYOUT,
    }


def order_lock_keys(order_ids: Iterable[str]) -> list[int]:
    """The advisory lock of each order (the same on every replica), sorted: every writer takes
    its orders' locks in this one order."""
    return sorted(
        {
            int.from_bytes(
                hashlib.blake2b(f"order:{order_id}".encode(), digest_size=8).digest(),
                signed=True,
            )
            for order_id in order_ids
        }
    )


def _newest_per_order(orders: Iterable[ProjectedOrder]) -> list[ProjectedOrder]:
    # One statement may not touch a row twice; sorted by id so rows always lock in one order.
    newest: dict[str, ProjectedOrder] = {}
    for projected in orders:
        held = newest.get(projected.order.id)
        if held is None or projected.revision > held.revision:
            newest[projected.order.id] = projected
    return [newest[order_id] for order_id in sorted(newest)]


def _upsert_statement() -> Any:
    # Run with a list of rows (executemany): compiled once and cached, where a VALUES list of
    # each batch's length would be compiled again for every batch.
    statement = insert(order_rows)
    changed = {c.name: statement.excluded[c.name] for c in order_rows.c if c.name != "id"}
    return statement.on_conflict_do_update(
        index_elements=[order_rows.c.id],
        set_=changed,
        where=order_rows.c.revision < statement.excluded.revision,
    )


_UPSERT = _upsert_statement()


def _adding_statement(table: Any, *added: str) -> Any:
    # As ``_UPSERT``, run with a list of rows: a VALUES list of the changes' number was built
    # and compiled again on every projection, 0.5 ms of CPU each (two in a status move).
    statement = insert(table)
    return statement.on_conflict_do_update(
        index_elements=list(table.primary_key.columns),
        set_={name: table.c[name] + statement.excluded[name] for name in added},
    )


_ADD_TO_DAY_COUNTS = _adding_statement(order_day_counts, "orders", "revenue")
_ADD_TO_TAG_COUNTS = _adding_statement(order_tag_counts, "orders")


# How a call to the query side fails: a lost or refused connection, a timeout, a statement
# cancelled by its time limit, or any other error of the database.
QUERY_SIDE_FAILURES = (SQLAlchemyError, OSError, TimeoutError)


class QuerySide(DeadLetterRows, Resource):
    """The PostgreSQL projection: its queries and its writes, on a schema the migration step
    (``orders-migrate``, ``schema.py``) brought to this release's revision; ``connect`` checks
    it and refuses an older one.

    Every statement runs under ``statement_timeout`` and the pool is bounded: a query nobody
    waits for any more stops, and a saturated service fails fast instead of queueing. It works
    as ``url``'s role, which owns nothing (``service_role.py``).
    """

    name = "postgres"

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        pool_timeout_s: float = 2.0,
        statement_timeout_ms: int = 5000,
        connect_timeout_s: float = 3.0,
    ) -> None:
        parsed = make_url(url)
        self.target = parsed.database or ""
        self._connect_args = {
            "timeout": connect_timeout_s,
            "server_settings": {
                "statement_timeout": str(statement_timeout_ms),
                "lock_timeout": str(statement_timeout_ms),
                # Plans for the actual search text: a generic plan cannot tell a rare
                # substring (use the trigram index) from a common one (walk the sort index).
                "plan_cache_mode": "force_custom_plan",
                "application_name": "orders",
            },
        }
        self.engine: AsyncEngine = create_async_engine(
            asyncpg_url(url),
            pool_size=pool_size,
            max_overflow=0,
            pool_timeout=pool_timeout_s,
            pool_pre_ping=False,
            json_serializer=lambda value: orjson.dumps(value).decode(),
            json_deserializer=orjson.loads,
            connect_args=self._connect_args,
        )
        # Reads run without a transaction of their own: each statement is its own snapshot
        # either way (READ COMMITTED), and the BEGIN and the ROLLBACK at the connection's
        # return to the pool were two of a list's four round trips to PostgreSQL.
        self._reads: AsyncEngine = self.engine.execution_options(isolation_level="AUTOCOMMIT")

    # Resource ----------------------------------------------------------------------------------
    async def connect(self) -> None:
        await require_schema_revision(self.engine, migration_scripts())

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self.engine.dispose()

    # Writes ------------------------------------------------------------------------------------
    async def project(self, orders: Iterable[ProjectedOrder]) -> int:
        """Applies each order unless its row is already at that revision or newer, and moves the
        running counts along; returns how many rows changed. Idempotent: the same orders
        projected again change nothing."""
        newest = _newest_per_order(orders)
        now = utc_now()
        applied: list[ProjectedOrder] = []
        for start in range(0, len(newest), _ROWS_PER_STATEMENT):
            applied += await self._project_chunk(newest[start : start + _ROWS_PER_STATEMENT], now)
        if applied:
            _observe_lag(applied, now.timestamp())
        return len(applied)

    async def _project_chunk(
        self, chunk: list[ProjectedOrder], now: datetime
    ) -> list[ProjectedOrder]:
        async with self.engine.begin() as connection:
            # Held to the commit: what is read below is what this write replaces, and the
            # counts it moves match the rows it writes, however many writers run.
            await connection.execute(
                _LOCK_ORDERS, {"keys": order_lock_keys(p.order.id for p in chunk)}
            )
            stored = await _stored_groups(connection, [p.order.id for p in chunk])
            fresh = [p for p in chunk if p.revision > stored.get(p.order.id, _ABSENT).revision]
            if fresh:
                await connection.execute(_UPSERT, [row_values(p, now) for p in fresh])
                # Last, in key order (the changes are sorted): a count row stays locked only
                # while this transaction commits.
                await _add_to_counts(connection, count_changes(fresh, stored))
                await _add_to_tag_counts(connection, tag_changes(fresh, stored))
        return fresh

    async def clear(self) -> None:
        """Empties the projection: the first step of a rebuild, which then projects every
        order again. Live projections may go on meanwhile; the revision check keeps the newest.
        TRUNCATE waits for the projections in flight and holds back the next ones."""
        async with self.engine.begin() as connection:
            await connection.execute(
                text("TRUNCATE order_rows, order_day_counts, order_tag_counts")
            )

    # Reads -------------------------------------------------------------------------------------
    async def page(self, query: OrderListQuery) -> OrderPageRows:
        """A list's page and total, as ``list_page`` reads them, without the cursors."""
        listed = await self.list_page(query)
        return OrderPageRows(listed.documents, listed.total)

    async def order_document(self, order_id: str) -> ServedOrder | None:
        """The order's row as projected (None when the query side does not hold it)."""
        async with self._reads.connect() as connection:
            row = (await connection.execute(ORDER_DOCUMENT, {"order_id": order_id})).first()
        return None if row is None else ServedOrder.of_row(*row)

    async def tags_in_use(self, limit: int) -> list[tuple[str, int]]:
        """The tags orders carry, most used first, with how many orders carry each."""
        counts = order_tag_counts.c
        statement = (
            select(counts.tag, counts.orders)
            .where(counts.orders > 0)
            .order_by(counts.orders.desc(), counts.tag)
            .limit(limit)
        )
        async with self._reads.connect() as connection:
            return [(tag, int(n)) for tag, n in await connection.execute(statement)]

    async def list_page(self, query: OrderListQuery) -> ListPage:
        """The list's page with its cursors; a broad search's total may be an estimate."""
        async with self._reads.connect() as connection:
            return await read_page(connection, query)

    async def matching(self, query: OrderFilters, ids: list[str]) -> list[str]:
        async with self._reads.connect() as connection:
            return list((await connection.execute(matching_statement(query, ids))).scalars())

    async def customer_orders(self, order: Order, limit: int = 20) -> OrderPageRows:
        async with self._reads.connect() as connection:
            rows = (await connection.execute(customer_orders_statement(order, limit))).all()
        total = rows[0][2] if rows else 0
        return OrderPageRows.of_rows(((layout, document) for layout, document, _ in rows), total)

    async def stats(self, query: OrderFilters) -> OrderStats:
        async with self._reads.connect() as connection:
            groups = (await connection.execute(stats_statement(query))).all()
        return fold_stats(groups)

    async def explain(
        self, query: OrderListQuery, *, analyze: bool = True, avoid_table_scans: bool = False
    ) -> dict[str, str]:
        """The PostgreSQL plan of each statement a list or stats request runs.

        ``avoid_table_scans`` tells the planner to use an index wherever one can serve: on a
        small table it rightly prefers to read everything, and the question a check asks is
        whether some index fits the statement."""
        statements = {
            "page": offset_page_statement(query),
            "count": count_statement(query),
            "stats": stats_statement(query),
        }
        plans: dict[str, str] = {}
        options = "ANALYZE, BUFFERS" if analyze else "COSTS"
        async with self.engine.connect() as connection:
            if avoid_table_scans:
                await connection.execute(text("SET LOCAL enable_seqscan = off"))
            for name, statement in statements.items():
                rows = await connection.execute(Explained(statement, options))
                plans[name] = "\n".join(row[0] for row in rows)
        return plans


@dataclass(frozen=True)
class StoredGroup:
    """What a stored row contributes to the running counts."""

    revision: int
    key: GroupKey
    total: float
    tags: tuple[str, ...] = ()


# The day an order was placed (UTC), its channel, status and currency.
GroupKey = tuple[date, str, str, str]

_ABSENT = StoredGroup(revision=0, key=(date.min, "", "", ""), total=0.0)


def group_key(order: Order) -> GroupKey:
    day = order.placed_at.astimezone(UTC).date()
    return (day, order.channel.value, order.status.value, order.currency)


def count_changes(
    fresh: Iterable[ProjectedOrder], stored: dict[str, StoredGroup]
) -> dict[GroupKey, tuple[int, float]]:
    """How applying ``fresh`` over ``stored`` moves each group's order count and revenue."""
    changes: dict[GroupKey, tuple[int, float]] = {}

    def add(key: GroupKey, orders: int, revenue: float) -> None:
        held_orders, held_revenue = changes.get(key, (0, 0.0))
        changes[key] = (held_orders + orders, held_revenue + revenue)

    for projected in fresh:
        before = stored.get(projected.order.id)
        if before is not None:
            add(before.key, -1, -before.total)
        add(group_key(projected.order), 1, projected.order.total)
    return {key: change for key, change in sorted(changes.items()) if change != (0, 0.0)}


async def _stored_groups(connection: AsyncConnection, ids: list[str]) -> dict[str, StoredGroup]:
    rows = await connection.execute(
        select(
            order_rows.c.id,
            order_rows.c.revision,
            order_rows.c.placed_at,
            order_rows.c.channel,
            order_rows.c.status,
            order_rows.c.currency,
            order_rows.c.total,
            order_rows.c.tags,
        ).where(order_rows.c.id.in_(ids))
    )
    return {
        order_id: StoredGroup(
            revision,
            (placed_at.astimezone(UTC).date(), channel, status, currency),
            total,
            tuple(tags),
        )
        for order_id, revision, placed_at, channel, status, currency, total, tags in rows
    }


def tag_changes(fresh: Iterable[ProjectedOrder], stored: dict[str, StoredGroup]) -> dict[str, int]:
    """How applying ``fresh`` over ``stored`` moves the number of orders carrying each tag."""
    changes: dict[str, int] = {}
    for projected in fresh:
        before = set(stored.get(projected.order.id, _ABSENT).tags)
        after = set(projected.order.tags)
        for tag in after - before:
            changes[tag] = changes.get(tag, 0) + 1
        for tag in before - after:
            changes[tag] = changes.get(tag, 0) - 1
    return {tag: change for tag, change in sorted(changes.items()) if change}


async def _add_to_tag_counts(connection: AsyncConnection, changes: dict[str, int]) -> None:
    if changes:
        await connection.execute(
            _ADD_TO_TAG_COUNTS, [{"tag": tag, "orders": change} for tag, change in changes.items()]
        )


async def _add_to_counts(
    connection: AsyncConnection, changes: dict[GroupKey, tuple[int, float]]
) -> None:
    if changes:
        await connection.execute(
            _ADD_TO_DAY_COUNTS,
            [
                {"day": d, "channel": c, "status": s, "currency": cur, "orders": n, "revenue": r}
                for (d, c, s, cur), (n, r) in changes.items()
            ],
        )


def _observe_lag(orders: Sequence[ProjectedOrder], now: float) -> None:
    lags = [max(0.0, now - p.order.updated_at.timestamp()) for p in orders]
    for lag in lags:
        metrics.PROJECTED.observe(lag)
    metrics.PROJECTION_LAG.set(min(lags))
