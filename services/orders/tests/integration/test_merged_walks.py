"""A list filtered by channel or status under any sort, read as one walk per (channel, status)
pair merged, against a real PostgreSQL: the same orders in the same order as one walk of the
whole view, by page number and by cursor, while reading a page's worth of rows per pair."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from devstack.pytest_plugin import InfraUrls
from orderhub_common.events import OrderStatus
from orders.query_side import ProjectedOrder, QuerySide, keyset

from .conftest import T0, analyze_orders
from .test_keyset_paging import SORTS, document_id, listing, walk
from .test_query_side import order

pytestmark = pytest.mark.integration

STATUSES = list(OrderStatus)
# Views that no single index orders under every sort: pairs of one channel, of one status
# across the three channels, and of one channel's six statuses.
VIEWS = [
    {"channel": ["amazon"], "status": ["PLACED", "SHIPPED"]},
    {"status": ["CONFIRMED"]},
    {"channel": ["blinkit"]},
]


def varied(count: int) -> list[ProjectedOrder]:
    # Every (channel, status) pair held, with repeated totals and update times: ties broken by
    # id must come out of the merge as out of one walk.
    return [
        ProjectedOrder(
            order(
                n,
                total=float(100 + n % 7),
                status=STATUSES[(n // 3) % len(STATUSES)],
                updated_at=T0 + timedelta(minutes=n % 11),
            ),
            1,
        )
        for n in range(count)
    ]


async def numbered(query_side: QuerySide, params: dict[str, Any]) -> list[str]:
    ids: list[str] = []
    for page in range(1, 30):
        documents = (await query_side.list_page(listing(**params, page=page))).documents
        if not documents:
            break
        ids += [document_id(d) for d in documents]
    return ids


@pytest.mark.parametrize("view", VIEWS, ids=["channel+statuses", "status", "channel"])
@pytest.mark.parametrize("sort_by", SORTS)
async def test_merged_walks_list_what_one_walk_lists_in_its_order(
    query_side: QuerySide, monkeypatch: pytest.MonkeyPatch, view: dict[str, Any], sort_by: str
) -> None:
    await query_side.project(varied(126))
    for sort_order in ("asc", "desc"):
        params = {**view, "sortBy": sort_by, "sortOrder": sort_order}
        with monkeypatch.context() as one_walk:
            one_walk.setattr(keyset, "MAX_MERGED_WALKS", 0)
            expected = await numbered(query_side, params)
        assert len(expected) == len(set(expected)) > 7
        assert await numbered(query_side, params) == expected
        assert await walk(query_side, params, backwards=False) == expected
        assert await walk(query_side, params, backwards=True) == expected


def rows_read(plan: dict[str, Any]) -> int:
    """The rows every scan of ``order_rows`` in an executed plan read, kept or filtered out."""
    own = 0
    if plan.get("Relation Name") == "order_rows":
        own = (plan["Actual Rows"] + plan.get("Rows Removed by Filter", 0)) * plan["Actual Loops"]
    return own + sum(rows_read(child) for child in plan.get("Plans", []))


async def test_a_filtered_list_by_total_reads_a_page_per_pair_not_the_orders_before_it(
    query_side: QuerySide, infra: InfraUrls, unique_name: str
) -> None:
    # amazon's PLACED and SHIPPED orders are the dearest: walking the totals from the cheapest
    # read every other order first.
    orders = [
        order(
            n, total=float(10_000 + n), status=OrderStatus.SHIPPED if n % 2 else OrderStatus.PLACED
        )
        if n % 3 == 1
        else order(n, total=float(n), status=OrderStatus.DELIVERED)
        for n in range(3_000)
    ]
    await query_side.project([ProjectedOrder(o, 1) for o in orders])
    await analyze_orders(infra, unique_name)
    query = listing(
        channel=["amazon"], status=["PLACED", "SHIPPED"], sortBy="total", sortOrder="asc", limit=20
    )
    async with query_side.engine.connect() as connection:
        plan = await keyset.json_plan(connection, keyset.offset_page_statement(query), "ANALYZE,")
    assert rows_read(plan) <= 2 * (20 + 1)
    page = await query_side.list_page(query)
    assert [document_id(d) for d in page.documents] == [
        o.id for o in sorted(orders[1::3], key=lambda o: o.total)[:20]
    ]
