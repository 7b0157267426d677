"""Keyset paging of the orders list against a real PostgreSQL: next and previous under every
sort walk every order exactly once, a page added to meanwhile does not shift the next one, a
jump lands where it says, a broad search's count is estimated, and the tags in use are counted
as the rows change."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import event

from devstack.pytest_plugin import InfraUrls
from orderhub_common.events import OrderStatus
from orders.errors import InvalidCursorError
from orders.query_side import ProjectedOrder, QuerySide, keyset
from orders.schemas import OrderListQuery

from .conftest import T0, analyze_orders, compiled_statements
from .test_query_side import CHANNELS, order

pytestmark = pytest.mark.integration

SORTS = ["placedAt", "total", "status", "channel", "updatedAt"]
STATUSES = list(OrderStatus)


def many(count: int, start: int = 0) -> list[ProjectedOrder]:
    # Repeated totals, statuses and channels: ties broken by id must still never repeat a row.
    return [
        ProjectedOrder(
            order(
                n,
                total=float(100 + n % 7),
                status=STATUSES[n % len(STATUSES)],
                updated_at=T0 + timedelta(minutes=n % 11),
            ),
            1,
        )
        for n in range(start, start + count)
    ]


def listing(**params: Any) -> OrderListQuery:
    return OrderListQuery.model_validate({"limit": 7, **params})


async def walk(query_side: QuerySide, params: dict[str, Any], *, backwards: bool) -> list[str]:
    """Every id of the view, page after page by cursor (from the last page back, or forwards)."""
    first = await query_side.list_page(listing(**params))
    if backwards:
        page = await query_side.list_page(listing(**params, cursor=first.last_cursor))
    else:
        page = first
    seen: list[list[str]] = []
    for _ in range(100):
        seen.append([document_id(d) for d in page.documents])
        following = page.prev_cursor if backwards else page.next_cursor
        if following is None:
            break
        page = await query_side.list_page(listing(**params, cursor=following))
    ordered = [ids for ids in (reversed(seen) if backwards else seen)]
    return [order_id for ids in ordered for order_id in ids]


def document_id(document: str) -> str:
    return str(orjson.loads(document)["id"])


def field(documents: list[str], name: str) -> list[Any]:
    return [orjson.loads(d)[name] for d in documents]


@pytest.mark.parametrize("sort_by", SORTS)
@pytest.mark.parametrize("sort_order", ["asc", "desc"])
async def test_next_and_previous_walk_every_order_once_in_the_numbered_pages_order(
    query_side: QuerySide, sort_by: str, sort_order: str
) -> None:
    await query_side.project(many(40))
    params = {"sortBy": sort_by, "sortOrder": sort_order}
    numbered = []
    for page in range(1, 8):
        numbered += [
            document_id(d)
            for d in (await query_side.list_page(listing(**params, page=page))).documents
        ]
    assert len(numbered) == len(set(numbered)) == 40
    assert await walk(query_side, params, backwards=False) == numbered
    assert await walk(query_side, params, backwards=True) == numbered


async def test_an_order_added_meanwhile_does_not_shift_the_next_page(
    query_side: QuerySide,
) -> None:
    await query_side.project(many(30))
    first = await query_side.list_page(listing())
    second = await query_side.list_page(listing(cursor=first.next_cursor))
    # Newer orders arrive at the top of a newest-first list.
    await query_side.project(many(5, start=1000))
    again = await query_side.list_page(listing(cursor=first.next_cursor))
    assert again.documents == second.documents
    assert again.total == 35


async def test_a_jump_starts_at_the_first_order_reaching_the_value(
    query_side: QuerySide,
) -> None:
    await query_side.project(many(30))
    moment = (T0 + timedelta(minutes=12)).isoformat()
    page = await query_side.list_page(listing(startAt=moment))
    # Newest first: the page starts at the order placed at that minute and goes back.
    assert [orjson.loads(d)["customer"]["name"] for d in page.documents] == [
        f"Customer {n}" for n in range(12, 5, -1)
    ]
    back = await query_side.list_page(listing(cursor=page.prev_cursor))
    assert [orjson.loads(d)["customer"]["name"] for d in back.documents][-1] == "Customer 13"
    by_total = await query_side.list_page(listing(sortBy="total", sortOrder="asc", startAt="105"))
    assert field(by_total.documents, "total") == [105.0] * 4 + [106.0] * 3
    before = await query_side.list_page(
        listing(sortBy="total", sortOrder="asc", cursor=by_total.prev_cursor)
    )
    assert max(field(before.documents, "total")) == 104.0


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"cursor": "bm90LWpzb24"}, "not one this list gave out"),
        ({"sortBy": "total", "startAt": "lots"}, "amount"),
        ({"sortBy": "status", "startAt": "LOST"}, "status"),
    ],
)
async def test_a_cursor_or_jump_it_cannot_use_is_refused_clearly(
    query_side: QuerySide, params: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidCursorError, match=message):
        await query_side.list_page(listing(**params))


async def test_a_cursor_of_another_sort_is_refused(query_side: QuerySide) -> None:
    await query_side.project(many(10))
    first = await query_side.list_page(listing())
    with pytest.raises(InvalidCursorError, match="another sort"):
        await query_side.list_page(listing(sortBy="total", cursor=first.next_cursor))


async def test_a_broad_search_answers_an_estimated_total(
    query_side: QuerySide, monkeypatch: pytest.MonkeyPatch
) -> None:
    await query_side.project(many(30))
    monkeypatch.setattr(keyset, "EXACT_COUNT_LIMIT", 10)
    broad = await query_side.list_page(listing(search="customer"))
    assert broad.total_is_estimate
    assert broad.total >= 10
    narrow = await query_side.list_page(listing(search="customer 12"))
    assert (narrow.total, narrow.total_is_estimate) == (1, False)
    plain = await query_side.list_page(listing())
    assert (plain.total, plain.total_is_estimate) == (30, False)


@pytest.fixture
def statements(query_side: QuerySide) -> Iterator[list[str]]:
    """Every statement the query side sends to PostgreSQL while the test runs."""
    sent: list[str] = []

    def record(*args: Any) -> None:
        sent.append(args[2])

    event.listen(query_side.engine.sync_engine, "before_cursor_execute", record)
    yield sent
    event.remove(query_side.engine.sync_engine, "before_cursor_execute", record)


def counts(statements: list[str]) -> list[str]:
    return [s for s in statements if s.lstrip().upper().startswith("SELECT COUNT")]


async def test_a_search_whose_page_shows_its_end_is_not_counted_again(
    query_side: QuerySide, statements: list[str]
) -> None:
    await query_side.project(many(30))
    statements.clear()
    narrow = await query_side.list_page(listing(search="customer 1", limit=20))  # 1, 10-19
    assert (narrow.total, narrow.total_is_estimate) == (11, False)
    last = await query_side.list_page(listing(search="customer", page=5))  # 28 shown before
    assert (len(last.documents), last.total, last.total_is_estimate) == (2, 30, False)
    assert counts(statements) == []
    beyond = await query_side.list_page(listing(search="customer", page=9))
    assert (beyond.documents, beyond.total) == ([], 30)  # past the end: counted
    assert len(counts(statements)) == 1
    # A cursor past the view's end shows no row, and nothing of the view's size: counted.
    past = keyset.Cursor("placedAt", "desc", "after", (T0 - timedelta(days=1)).isoformat(), "~")
    after_the_end = await query_side.list_page(listing(search="customer", cursor=past.encode()))
    assert (after_the_end.documents, after_the_end.total) == ([], 30)


async def test_a_search_the_planner_expects_far_beyond_the_limit_is_only_estimated(
    query_side: QuerySide, statements: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    await query_side.project(many(30))
    statements.clear()
    monkeypatch.setattr(keyset, "EXACT_COUNT_LIMIT", 5)
    monkeypatch.setattr(keyset, "ESTIMATE_ALONE_FROM", 0)
    broad = await query_side.list_page(listing(search="customer"))
    assert broad.total_is_estimate
    assert counts(statements) == []
    assert any(s.startswith("EXPLAIN") for s in statements)


async def test_a_searchs_estimate_is_compiled_once_for_every_search_of_its_shape(
    query_side: QuerySide,
) -> None:
    # Compiled by hand, the estimate's EXPLAIN took 90 µs of CPU on every search
    # (keyset.Explained).
    await query_side.project(many(30))
    with compiled_statements(query_side.engine.sync_engine) as ran:
        for term in ("customer 1", "customer 2", "customer"):
            await query_side.list_page(listing(search=term, limit=2))
    explained = [how for how, statement in ran if statement.startswith("EXPLAIN")]
    assert explained == ["CacheStats.CACHE_MISS", "CacheStats.CACHE_HIT", "CacheStats.CACHE_HIT"]


async def test_the_planner_judges_a_name_that_one_order_in_two_hundred_shares(
    query_side: QuerySide, infra: InfraUrls, unique_name: str
) -> None:
    # Judged "22 orders" where 8,015 matched, the planner sorted every match for a page of 20
    # (migration 0011): a fragment this rare matched none of a hundred histogram entries.
    named = [
        order(n, customer=order(n).customer.model_copy(update={"name": "Diya Rao"}))
        if n % 200 == 7
        else order(n)
        for n in range(4_000)
    ]
    await query_side.project([ProjectedOrder(o, 1) for o in named])
    await analyze_orders(infra, unique_name)
    async with query_side.engine.connect() as connection:
        expected = await keyset._estimate(connection, listing(search="diya"))
    assert 20 / 3 <= expected <= 20 * 3


async def test_tags_in_use_are_counted_as_orders_gain_and_lose_them(
    query_side: QuerySide,
) -> None:
    await query_side.project(
        [
            ProjectedOrder(order(1, tags=["vip", "gift"]), 1),
            ProjectedOrder(order(2, tags=["vip"]), 1),
            ProjectedOrder(order(3), 1),
        ]
    )
    assert await query_side.tags_in_use(10) == [("vip", 2), ("gift", 1)]
    await query_side.project([ProjectedOrder(order(1, tags=["gift"]), 2)])
    # Replayed: counted once.
    await query_side.project([ProjectedOrder(order(1, tags=["gift"]), 2)])
    assert await query_side.tags_in_use(10) == [("gift", 1), ("vip", 1)]


async def test_a_placement_range_within_a_day_is_counted_exactly_however_many_it_holds(
    query_side: QuerySide, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only a search or a tag is estimated: an hour's orders are counted in the placement index.
    await query_side.project(many(30))  # placed a minute apart from T0
    monkeypatch.setattr(keyset, "EXACT_COUNT_LIMIT", 5)
    monkeypatch.setattr(keyset, "ESTIMATE_ALONE_FROM", 0)
    hour = {
        "from": (T0 - timedelta(minutes=1)).isoformat(),
        "to": (T0 + timedelta(hours=1)).isoformat(),
    }
    page = await query_side.list_page(listing(**hour))
    assert (page.total, page.total_is_estimate) == (30, False)


async def test_a_page_the_day_counts_total_is_one_statement(
    query_side: QuerySide, statements: list[str]
) -> None:
    await query_side.project(many(30))
    statements.clear()
    page = await query_side.list_page(listing(status=["PLACED", "SHIPPED"], channel=["website"]))
    matching = [
        n
        for n in range(30)
        if STATUSES[n % len(STATUSES)] in ("PLACED", "SHIPPED") and CHANNELS[n % 3] == "website"
    ]
    assert page.total == len(matching) > 0
    assert len(statements) == 1
    beyond = await query_side.list_page(listing(page=9))  # no row to carry the total
    assert (beyond.documents, beyond.total) == ([], 30)
    assert len(statements) == 3


async def test_the_search_and_tag_indexes_keep_short_pending_lists(query_side: QuerySide) -> None:
    # Every search reads a GIN index's whole pending list; at the default 4 MB it cost each
    # search about 1.5 ms once orders had flowed in (migration 0010).
    async with query_side.engine.connect() as connection:
        options = dict(
            (
                await connection.exec_driver_sql(
                    "SELECT relname, reloptions FROM pg_class WHERE relname IN "
                    "('order_rows_search_text_trgm', 'order_rows_tags')"
                )
            ).all()
        )
    assert options == {
        "order_rows_search_text_trgm": ["gin_pending_list_limit=256"],
        "order_rows_tags": ["gin_pending_list_limit=256"],
    }
