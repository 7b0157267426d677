"""How list, search and stats queries become SQL: compiled for PostgreSQL, never executed."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy.dialects import postgresql

from orderhub_common.events import Customer, OrderItem
from orderhub_common.testing import channel_order
from orders.changes import new_order
from orders.query_side import (
    DaySplit,
    count_statement,
    search_terms,
    search_text,
    split_by_day,
    stats_statement,
)
from orders.query_side.keyset import offset_page_statement
from orders.schemas import OrderListQuery

pytestmark = pytest.mark.unit


def query(**params: Any) -> OrderListQuery:
    return OrderListQuery.model_validate(params)


def compiled(statement: Any) -> tuple[str, dict[str, Any]]:
    sql = statement.compile(
        dialect=postgresql.asyncpg.dialect(), compile_kwargs={"render_postcompile": True}
    )
    return str(sql), dict(sql.params)


@pytest.mark.parametrize("text", ["%", "_", "\\", "50%_off", "'; DROP TABLE order_rows; --"])
def test_search_text_is_a_bound_literal_with_its_wildcards_escaped(text: str) -> None:
    sql, params = compiled(offset_page_statement(query(search=text)))
    assert "LIKE '%' || $1::VARCHAR || '%' ESCAPE '/'" in sql
    assert "DROP" not in sql
    escaped = text.casefold().replace("/", "//").replace("%", "/%").replace("_", "/_")
    assert params["search_text_1"] == escaped


def test_search_is_case_and_space_insensitive() -> None:
    assert search_terms("  Priya   SHARMA ") == ["priya sharma"]


def test_phone_like_search_also_looks_for_its_digits() -> None:
    assert search_terms("+91 98765-43210") == ["+91 98765-43210", "919876543210"]
    assert search_terms("402-1234567") == ["402-1234567", "4021234567"]
    assert search_terms("A-12") == ["a-12"]
    sql, _ = compiled(count_statement(query(search="98765 43210")))
    assert sql.count("LIKE") == 2
    assert " OR " in sql


def test_searched_text_covers_ids_customer_skus_and_item_names_one_field_a_line() -> None:
    order = new_order(channel_order("402-1234567-7654321", channel="amazon")).order
    order = order.model_copy(
        update={
            "customer": Customer(name="Priya  SHARMA", phone="+91 98765-43210", email=None),
            "items": [OrderItem(sku="RING-18K-01", name="Gold Ring", qty=1, price=1.0)],
        }
    )
    lines = search_text(order).split("\n")
    assert lines == [
        order.id,
        "402-1234567-7654321",
        "priya sharma",
        "+91 98765-43210",
        "919876543210",
        "ring-18k-01",
        "gold ring",
    ]


def test_filters_combine() -> None:
    sql, params = compiled(
        offset_page_statement(
            query(
                channel=["amazon", "blinkit"],
                status=["PLACED"],
                search="priya",
                **{"from": "2026-11-01T00:00:00Z", "to": "2026-11-02T00:00:00Z"},
            )
        )
    )
    where = sql.split("WHERE", 1)[1].split("ORDER BY", 1)[0]
    assert where.count(" AND ") == 4
    assert {"amazon", "blinkit", "PLACED"} <= set(params.values())


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, "ORDER BY order_rows.placed_at DESC, order_rows.id DESC"),
        (
            {"sortBy": "total", "sortOrder": "asc"},
            "ORDER BY order_rows.total ASC, order_rows.id ASC",
        ),
        ({"sortBy": "status"}, "ORDER BY order_rows.status DESC, order_rows.id DESC"),
    ],
)
def test_sort_breaks_ties_by_id(params: dict[str, str], expected: str) -> None:
    sql, _ = compiled(offset_page_statement(query(**params)))
    assert expected in sql


@pytest.mark.parametrize(
    ("params", "tables"),
    [
        ({}, {"order_day_counts"}),
        ({"status": ["PLACED"], "channel": ["amazon"]}, {"order_day_counts"}),
        ({"from": "2026-11-01T00:00:00Z"}, {"order_day_counts"}),
        # Part days at the ends come from the rows.
        ({"from": "2026-10-25T18:30:00Z"}, {"order_day_counts", "order_rows"}),
        ({"to": "2026-11-01T18:29:59.999Z"}, {"order_day_counts", "order_rows"}),
        # No whole UTC day in an Indian day.
        ({"from": "2026-10-31T18:30:00Z", "to": "2026-11-01T18:29:59.999Z"}, {"order_rows"}),
        ({"search": "priya"}, {"order_rows"}),
        ({"tag": ["gift"], "from": "2026-11-01T00:00:00Z"}, {"order_rows"}),
    ],
)
def test_counts_and_stats_add_up_day_counts_unless_a_search_or_tag_narrows(
    params: dict[str, Any], tables: set[str]
) -> None:
    for statement in (count_statement(query(**params)), stats_statement(query(**params))):
        sql, _ = compiled(statement)
        assert {
            table for table in ("order_day_counts", "order_rows") if f"FROM {table}" in sql
        } == tables


def utc(moment: str) -> datetime:
    return datetime.fromisoformat(moment)


@pytest.mark.parametrize(
    ("placed_from", "placed_to", "expected"),
    [
        (None, None, DaySplit(None, None, None, None)),
        (
            utc("2026-11-01T00:00:00Z"),
            utc("2026-11-02T00:00:00Z"),
            DaySplit(
                date(2026, 11, 1),
                date(2026, 11, 2),
                None,
                (utc("2026-11-02T00:00:00Z"), utc("2026-11-02T00:00:00Z")),
            ),
        ),
        (
            utc("2026-10-25T18:30:00Z"),
            utc("2026-11-01T18:29:59.999Z"),
            DaySplit(
                date(2026, 10, 26),
                date(2026, 11, 1),
                (utc("2026-10-25T18:30:00Z"), utc("2026-10-26T00:00:00Z")),
                (utc("2026-11-01T00:00:00Z"), utc("2026-11-01T18:29:59.999Z")),
            ),
        ),
        (utc("2026-10-31T18:30:00Z"), utc("2026-11-01T18:29:59.999Z"), None),
        (utc("2026-11-01T10:00:00Z"), utc("2026-11-01T10:00:00Z"), None),
    ],
    ids=["open", "one UTC day", "an Indian week", "an Indian day", "one instant"],
)
def test_a_placement_range_splits_into_whole_utc_days_and_the_part_days_at_its_ends(
    placed_from: datetime | None, placed_to: datetime | None, expected: DaySplit | None
) -> None:
    assert split_by_day(placed_from, placed_to) == expected


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page": 0}, "page"),
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"channel": ["ebay"]}, "channel"),
        ({"status": ["LOST"]}, "status"),
        ({"sortBy": "customer"}, "sortBy"),
        ({"sortOrder": "up"}, "sortOrder"),
        ({"from": "yesterday"}, "from"),
        ({"from": "2026-11-02", "to": "2026-11-01"}, "to"),
        ({"from": "0001-01-01T00:00:00+05:00"}, "from"),
        ({"to": "9999-12-31T23:59:59-05:00"}, "to"),
        ({"search": "a\x00b"}, "search"),
        ({"search": "x" * 201}, "search"),
        ({"colour": "red"}, "colour"),
        ({"sort_by": "total"}, "sort_by"),
    ],
)
def test_invalid_parameters_name_the_field(params: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        query(**params)
    assert field in {str(error["loc"][0]) for error in raised.value.errors()}
