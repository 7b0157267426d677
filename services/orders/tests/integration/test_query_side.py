"""The query side against a real PostgreSQL: what it finds, that projecting is idempotent by
revision, that its running day counts agree with its rows and answer any date range as a pass
over the rows would, and that PostgreSQL answers every query shape of the API through an index."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import orjson
import pytest
from sqlalchemy import Date, cast, event, func, select, text

from devstack.pytest_plugin import InfraUrls
from orderhub_common.events import Customer, Order, OrderItem, OrderStatus
from orderhub_common.testing import channel_order
from orders.changes import new_order
from orders.explain import QUERY_SHAPES
from orders.query_side import (
    ProjectedOrder,
    QuerySide,
    filters,
    fold_stats,
    order_day_counts,
    order_rows,
    totals_by_group,
)
from orders.query_side.keyset import json_plan, offset_page_statement
from orders.schema import migrate, upgrade_schema_to
from orders.schemas import OrderListQuery

from .conftest import T0, analyze_orders, create_database, database_url, drop_database

pytestmark = pytest.mark.integration

CHANNELS = ["website", "amazon", "blinkit"]


def order(n: int, **changes: Any) -> Order:
    base = new_order(
        channel_order(
            f"402-{n:07d}-{n * 7 % 10_000_000:07d}",
            channel=CHANNELS[n % 3],
            placed_at=T0 + timedelta(minutes=n),
            customer={
                "name": f"Customer {n}",
                "phone": f"+91 90000 {n:05d}",
                "email": f"buyer{n}@example.com",
            },
            total=float(100 + n),
        )
    ).order
    return base.model_copy(update=changes)


async def counts_from_rows(query_side: QuerySide) -> list[list[tuple[Any, ...]]]:
    """The rows counted per UTC day of placement, channel, status and currency, and the running
    day counts."""
    day = cast(func.timezone("UTC", order_rows.c.placed_at), Date)
    async with query_side.engine.connect() as connection:
        grouped = await connection.execute(
            totals_by_group().add_columns(day).group_by(day).order_by(None)
        )
        running = await connection.execute(
            select(order_day_counts).where(order_day_counts.c.orders != 0)
        )
        return [
            sorted((r[5], *r[:5]) for r in grouped),
            sorted(tuple(r) for r in running),
        ]


async def test_projecting_the_same_or_an_older_revision_changes_nothing(
    query_side: QuerySide,
) -> None:
    first = ProjectedOrder(order(1), 1)
    confirmed = ProjectedOrder(order(1, status=OrderStatus.CONFIRMED, total=150.0), 2)
    assert await query_side.project([first]) == 1
    assert await query_side.project([confirmed]) == 1
    # Replays and late deliveries, in any order and any number of times.
    assert await query_side.project([first, confirmed, first]) == 0

    page = await query_side.page(OrderListQuery())
    assert [(o.status, o.total) for o in page.orders] == [(OrderStatus.CONFIRMED, 150.0)]
    stats = await query_side.stats(OrderListQuery())
    assert stats.by_status[OrderStatus.CONFIRMED] == 1
    assert stats.by_status[OrderStatus.PLACED] == 0
    grouped, running = await counts_from_rows(query_side)
    assert grouped == running


async def test_running_counts_agree_with_the_rows_after_any_mix_of_changes(
    query_side: QuerySide,
) -> None:
    statuses = list(OrderStatus)
    await query_side.project(ProjectedOrder(order(n), 1) for n in range(60))
    moves = [
        ProjectedOrder(order(n, status=statuses[n % 5], currency=["INR", "USD"][n % 2]), 2)
        for n in range(0, 60, 2)
    ]
    await query_side.project(moves)
    await query_side.project(moves[:7])  # a redelivery
    grouped, running = await counts_from_rows(query_side)
    assert grouped == running
    stats = await query_side.stats(OrderListQuery())
    assert stats.total_orders == 60
    revenue = {(r.channel.value, r.currency): r.amount for r in stats.revenue}
    async with query_side.engine.connect() as connection:
        expected = await connection.execute(
            select(order_rows.c.channel, order_rows.c.currency, func.sum(order_rows.c.total))
            .where(order_rows.c.status != "CANCELLED")
            .group_by(order_rows.c.channel, order_rows.c.currency)
        )
        assert revenue == {(c, cur): round(amount, 2) for c, cur, amount in expected}


def at(moment: str) -> datetime:
    return datetime.fromisoformat(moment)


PLACEMENT_RANGES = {
    "all": (None, None),
    "from a midnight": ("2026-11-03T00:00:00Z", None),
    "to a midnight, which counts the orders placed at that very instant": (
        None,
        "2026-11-05T00:00:00Z",
    ),
    "a week of Indian days (UTC+05:30)": ("2026-11-02T18:30:00Z", "2026-11-09T18:29:59.999Z"),
    "one Indian day: two part UTC days and no whole one": (
        "2026-11-04T18:30:00Z",
        "2026-11-05T18:29:59.999Z",
    ),
    "one UTC day to its next midnight": ("2026-11-03T00:00:00Z", "2026-11-04T00:00:00Z"),
    "one instant": ("2026-11-05T00:00:00Z", "2026-11-05T00:00:00Z"),
    "from mid-day to the last": ("2026-11-06T13:13:00Z", None),
}


async def test_totals_and_stats_for_any_placement_range_equal_a_pass_over_the_rows(
    query_side: QuerySide,
) -> None:
    statuses = itertools.cycle(OrderStatus)
    # Every 7h13m over about three weeks, and orders on and around midnights.
    placed = [T0 + n * timedelta(hours=7, minutes=13) for n in range(70)]
    placed += [at(m) for m in ("2026-11-03T00:00:00Z", "2026-11-05T00:00:00Z")]
    placed += [at("2026-11-04T23:59:59.999Z"), at("2026-11-02T18:30:00Z")]
    first = [ProjectedOrder(order(n, placed_at=p), 1) for n, p in enumerate(placed)]
    await query_side.project(first)
    # Status moves take orders from one group of their day to another.
    await query_side.project(
        ProjectedOrder(order(n, placed_at=p, status=next(statuses)), 2)
        for n, p in enumerate(placed)
        if n % 3
    )

    for name, (placed_from, placed_to) in PLACEMENT_RANGES.items():
        for narrowed in ({}, {"status": ["PLACED", "SHIPPED"]}, {"channel": ["amazon"]}):
            query = OrderListQuery.model_validate(
                {"from": placed_from, "to": placed_to, **narrowed}
            )
            async with query_side.engine.connect() as connection:
                groups = (await connection.execute(totals_by_group().where(*filters(query)))).all()
                counted = await connection.execute(
                    select(func.count()).select_from(order_rows).where(*filters(query))
                )
            expected = fold_stats(groups)
            assert expected.total_orders == counted.scalar_one()
            assert await query_side.stats(query) == expected, (name, narrowed)
            assert (await query_side.page(query)).total == expected.total_orders, (name, narrowed)
    assert (await query_side.stats(OrderListQuery())).total_orders == len(placed)


SPECIAL = {
    "percent": "50% Club",
    "underscore": "snake_case Jewels",
    "backslash": "Back\\slash Gems",
    "plain": "500 Club",
    "plain2": "snakeXcase Jewels",
    "plain3": "Backslash Gems",
}


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("%", {"percent"}),
        ("50%", {"percent"}),
        ("0% c", {"percent"}),
        # Not a bare "_": every order id has one ("ord_...").
        ("e_c", {"underscore"}),
        ("_case", {"underscore"}),
        ("\\", {"backslash"}),
        ("k\\s", {"backslash"}),
        ("%%", set()),
        ("5_0", set()),
        ("club", {"percent", "plain"}),
    ],
)
async def test_search_matches_literal_text_only(
    query_side: QuerySide, search: str, expected: set[str]
) -> None:
    await query_side.project(
        ProjectedOrder(order(n, customer=Customer(name=name, phone="+91 90000 11111")), 1)
        for n, name in enumerate(SPECIAL.values())
    )
    page = await query_side.page(OrderListQuery(search=search, limit=100))
    names = {o.customer.name for o in page.orders}
    assert names == {SPECIAL[key] for key in expected}
    assert page.total == len(expected)


async def test_search_finds_the_middle_of_ids_emails_skus_and_item_names(
    query_side: QuerySide,
) -> None:
    target = order(
        42, items=[OrderItem(sku="NECK-22K-07", name="Temple necklace", qty=1, price=142.0)]
    )
    await query_side.project([ProjectedOrder(target, 1)])
    await query_side.project(ProjectedOrder(order(n), 1) for n in range(10))
    for search in ["-0000042-00", "yer42@exa", "22k-0", "PLE NECK", target.id[6:14], "90000 00042"]:
        page = await query_side.page(OrderListQuery(search=search))
        assert [o.id for o in page.orders] == [target.id], search


async def test_every_query_shape_is_served_by_an_index(
    query_side: QuerySide, infra: InfraUrls, unique_name: str
) -> None:
    statuses = itertools.cycle(OrderStatus)
    await query_side.project(ProjectedOrder(order(n, status=next(statuses)), 1) for n in range(500))
    await analyze_orders(infra, unique_name)
    for params in QUERY_SHAPES.values():
        query = OrderListQuery.model_validate(params)
        plans = await query_side.explain(query, avoid_table_scans=True)
        for statement, plan in plans.items():
            scans = [line for line in plan.splitlines() if "Scan" in line]
            assert scans, (params, statement, plan)
            # The running counts are a handful of rows: reading them whole is the plan.
            assert not any("Seq Scan on order_rows" in line for line in scans), (
                params,
                statement,
                plan,
            )


async def test_a_migration_of_a_large_table_is_not_cut_short_by_a_time_limit(
    infra: InfraUrls, unique_name: str
) -> None:
    # A store from before 0003, with enough orders that its backfill outlasts the time limit.
    await create_database(infra, unique_name)
    url = database_url(infra, unique_name)
    old = QuerySide(url)
    try:
        async with old.engine.begin() as connection:
            await connection.run_sync(upgrade_schema_to, "0002_bulk_exports_views_audit")
            await connection.execute(
                text(
                    "INSERT INTO order_rows (id, revision, channel, external_id, status, total,"
                    " currency, placed_at, updated_at, search_text, document, projected_at)"
                    " SELECT 'ord_' || n, 1, 'amazon', 'ext-' || n, 'PLACED', 100, 'INR', now(),"
                    " now(), 'text', jsonb_build_object('customer', jsonb_build_object("
                    "'phone', '+91 ' || n, 'email', 'Buyer' || n || '@Example.com')), now()"
                    " FROM generate_series(1, 50000) AS n"
                )
            )
    finally:
        await old.close()
    # A time limit on every statement of the database (as a service's settings would set one).
    admin = await asyncpg.connect(url)
    try:
        await admin.execute(f'ALTER DATABASE "{unique_name}" SET statement_timeout = 20')
    finally:
        await admin.close()
    plain = QuerySide(url)
    try:
        await migrate(url, None)
        async with plain.engine.connect() as connection:
            emails = await connection.execute(
                select(func.count()).where(order_rows.c.customer_email.like("buyer%@example.com"))
            )
            assert emails.scalar_one() == 50000
    finally:
        await plain.close()
        await drop_database(infra, unique_name)


async def test_a_row_kept_before_the_order_changed_shape_is_served_in_todays_shape(
    query_side: QuerySide,
) -> None:
    first, second = order(1), order(2)
    await query_side.project([ProjectedOrder(first, 1), ProjectedOrder(second, 1)])
    async with query_side.engine.begin() as connection:
        # As a row projected before tags existed looks.
        await connection.execute(
            text(
                "UPDATE order_rows SET document = document - 'tags', document_layout = ''"
                " WHERE id = :id"
            ),
            {"id": first.id},
        )

    page = await query_side.page(OrderListQuery.model_validate({"sortOrder": "asc"}))

    old, current = (orjson.loads(document) for document in page.documents)
    assert old["tags"] == []
    assert current == second.model_dump(mode="json")


async def test_a_list_and_stats_read_send_postgresql_their_statements_and_nothing_else(
    query_side: QuerySide,
) -> None:
    """Round trips are the cost of a read that waits rather than works: a list is one statement
    (its page with the day counts' total), stats one, with no BEGIN, ROLLBACK or SET around
    them."""
    await query_side.project([ProjectedOrder(order(n), 1) for n in range(3)])
    statements: list[str] = []
    other: list[str] = []  # what the driver sends outside prepared statements: BEGIN, SET, ...

    @event.listens_for(query_side.engine.sync_engine, "before_cursor_execute")
    def log_statement(*args: Any) -> None:
        statements.append(args[2].split()[0].upper())

    @event.listens_for(query_side.engine.sync_engine, "connect")
    def log_other(dbapi_connection: Any, _: Any) -> None:
        dbapi_connection.driver_connection.add_query_logger(lambda q: other.append(q.query))

    await query_side.engine.dispose()  # the pool's connections again, each with the logger
    page = await query_side.page(OrderListQuery())
    list_statements = list(statements)
    statements.clear()
    stats = await query_side.stats(OrderListQuery())

    assert page.total == 3
    assert sum(stats.by_status.values()) == 3
    assert list_statements == ["SELECT"]
    assert statements == ["SELECT"]
    assert other == []


async def test_a_later_page_reads_only_its_own_orders_whole(query_side: QuerySide) -> None:
    """The rows an OFFSET skips are found by their keys; only the page's rows are read with
    their documents (a deep page once cost a read and a conversion of every skipped order)."""
    await query_side.project(ProjectedOrder(order(n), 1) for n in range(200))
    query = OrderListQuery.model_validate({"page": 3, "limit": 20, "channel": ["website"]})
    async with query_side.engine.connect() as connection:
        await connection.execute(text("SET LOCAL enable_seqscan = off"))
        plan = await json_plan(connection, offset_page_statement(query), "ANALYZE, VERBOSE,")

    def nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
        return [node, *(n for child in node.get("Plans", []) for n in nodes(child))]

    reading_documents = [
        node
        for node in nodes(plan)
        if node.get("Relation Name") == "order_rows"
        and any("document" in column for column in node.get("Output", []))
    ]
    assert reading_documents, plan
    assert max(node["Actual Rows"] * node["Actual Loops"] for node in reading_documents) <= 21
    page = await query_side.list_page(query)
    newest_first = [order(n).id for n in reversed(range(200)) if CHANNELS[n % 3] == "website"]
    assert [orjson.loads(d)["id"] for d in page.documents] == newest_first[40:60]
