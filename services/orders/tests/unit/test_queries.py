from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from orderhub_common.events import Customer
from orders.repository import order_filter, order_sort, search_keys, search_terms
from orders.schemas import OrderListQuery

pytestmark = pytest.mark.unit


def query(**params: Any) -> OrderListQuery:
    return OrderListQuery.model_validate(params)


def search_regex(search: str) -> str:
    pattern: str = order_filter(query(search=search))["searchKeys"]["$regex"]
    return pattern


@pytest.mark.parametrize("text", [".*", "(", "$where", "a|b", "[x]", "\\", "priya.*sharma"])
def test_search_text_is_a_literal_prefix(text: str) -> None:
    pattern = re.compile(search_regex(text))
    assert pattern.match(text.casefold() + "tail")
    assert not pattern.match("x" + text)
    assert not pattern.match("anything else")


def test_dollar_where_never_becomes_an_operator() -> None:
    conditions = order_filter(query(search="$where"))
    assert set(conditions) == {"searchKeys"}
    assert set(conditions["searchKeys"]) == {"$regex"}


def test_search_is_case_and_space_insensitive() -> None:
    assert search_regex("  Priya   SHARMA ") == re.escape("priya sharma").join(["^", ""])


def test_phone_like_search_also_looks_for_its_digits() -> None:
    assert search_terms("+91 98765-43210") == ["+91 98765-43210", "919876543210"]
    assert search_terms("402-1234567") == ["402-1234567", "4021234567"]
    assert search_terms("A-12") == ["a-12"]
    conditions = order_filter(query(search="98765 43210"))
    assert conditions == {
        "$or": [
            {"searchKeys": {"$regex": "^" + re.escape("98765 43210")}},
            {"searchKeys": {"$regex": "^9876543210"}},
        ]
    }


def test_stored_keys_cover_ids_name_words_phone_and_email() -> None:
    keys = search_keys(
        "ord_abc",
        "WEB-1001",
        Customer(name="Priya  Sharma", phone="+91 98765 43210", email="Priya@Example.com"),
    )
    for expected in [
        "ord_abc",
        "web-1001",
        "priya sharma",
        "sharma",
        "919876543210",
        "9876543210",
        "priya@example.com",
    ]:
        assert expected in keys


def test_filters_combine() -> None:
    conditions = order_filter(
        query(
            channel=["amazon", "website", "amazon"],
            status=["PLACED"],
            **{"from": "2026-11-01", "to": "2026-11-02T00:00:00+05:30"},
        )
    )
    assert conditions["channel"] == {"$in": ["amazon", "website"]}
    assert conditions["status"] == {"$in": ["PLACED"]}
    assert conditions["placedAt"] == {
        "$gte": datetime(2026, 11, 1, tzinfo=UTC),
        "$lte": datetime(2026, 11, 1, 18, 30, tzinfo=UTC),
    }


def test_no_filters_is_everything() -> None:
    assert order_filter(query()) == {}
    assert order_filter(query(search="   ")) == {}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, [("placedAt", -1), ("_id", -1)]),
        ({"sortBy": "total", "sortOrder": "asc"}, [("total", 1), ("_id", 1)]),
        ({"sortBy": "status"}, [("status", -1), ("_id", -1)]),
    ],
)
def test_sort_breaks_ties_by_id(params: dict[str, str], expected: list[tuple[str, int]]) -> None:
    assert order_sort(query(**params)) == expected


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
