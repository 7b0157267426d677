"""Every common query is served by an index.

Two checks, because the development store cannot answer the second one:

- against the indexes the store really has, each query's shape (equality fields, then sort keys,
  or its one filtered field) must be a prefix of some index, so dropping or reshaping an index,
  or changing a query so no index fits, fails here on any store;
- on MongoDB, ``explain`` must show an index scan and no collection scan. FerretDB 1.24 with
  SQLite plans every query as a table scan (its explain reads ``SCAN <table>``, indexes or not),
  so there this check is skipped, saying so.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from devstack.pytest_plugin import InfraUrls
from orderhub_common.resources import MongoResource
from orders.documents import OrderDocument, OutboxDocument
from orders.repository import OrderRepository, order_filter, order_sort
from orders.schemas import OrderListQuery
from orders.service import OrderService

from .conftest import T0, channel_order

pytestmark = pytest.mark.integration

Query = tuple[dict[str, Any], list[tuple[str, int]]]


def list_query(**params: Any) -> Query:
    query = OrderListQuery.model_validate(params)
    return order_filter(query), [(field, int(direction)) for field, direction in order_sort(query)]


COMMON_QUERIES: dict[str, Query] = {
    "default list": list_query(),
    "one status, newest first": list_query(status=["PLACED"]),
    "one channel, newest first": list_query(channel=["amazon"]),
    "placed in a range": list_query(**{"from": T0.isoformat(), "to": T0.isoformat()}),
    "search": list_query(search="priya"),
    **{
        f"sorted by {field} {order}": list_query(sortBy=field, sortOrder=order)
        for field in ["placedAt", "total", "status", "channel", "updatedAt"]
        for order in ["asc", "desc"]
    },
    "upsert lookup": ({"channel": "website", "externalId": "W-1"}, []),
}


def _is_equality(condition: Any) -> bool:
    return not isinstance(condition, dict) or set(condition) == {"$in"}


def fitting_index(query: Query, indexes: dict[str, list[tuple[str, int]]]) -> str | None:
    """The name of an index that serves the query: its keys start with the query's equality
    fields (in any order) followed by the sort keys (in the index's direction or all reversed),
    or its first key is a field the query filters on (the sort, if any, then runs on the few
    matching documents)."""
    conditions, sort = query
    equality = {field for field, value in conditions.items() if _is_equality(value)}
    reversed_sort = [(field, -direction) for field, direction in sort]
    for name, keys in indexes.items():
        fields = [field for field, _ in keys]
        if set(fields[: len(equality)]) != equality:
            continue
        after_equality = keys[len(equality) :][: len(sort)]
        if sort and after_equality in (sort, reversed_sort):
            return name
        if (not sort and equality) or (not equality and fields[0] in conditions):
            return name
    return None


@pytest.fixture
async def database(infra: InfraUrls, unique_name: str) -> AsyncIterator[AsyncDatabase[Any]]:
    mongo = MongoResource(infra.mongodb_url, unique_name, [OrderDocument, OutboxDocument])
    await mongo.connect()
    service = OrderService(OrderRepository())
    for n in range(5):
        await service.record_channel_order(channel_order(f"W-{n}"))
    try:
        yield mongo.database
    finally:
        await mongo.client.drop_database(unique_name)
        await mongo.close()


async def store_indexes(database: AsyncDatabase[Any]) -> dict[str, list[tuple[str, int]]]:
    cursor = await database["orders"].list_indexes()
    return {
        index["name"]: [(field, int(direction)) for field, direction in index["key"].items()]
        async for index in cursor
    }


@pytest.mark.parametrize("name", list(COMMON_QUERIES))
async def test_an_index_fits_each_common_query(database: AsyncDatabase[Any], name: str) -> None:
    assert fitting_index(COMMON_QUERIES[name], await store_indexes(database)), name


def test_the_fitting_check_rejects_a_query_no_index_serves() -> None:
    indexes = {"placedAt_id": [("placedAt", -1), ("_id", -1)]}
    assert fitting_index(({}, [("placedAt", -1), ("_id", -1)]), indexes)
    assert not fitting_index(({}, [("total", -1), ("_id", -1)]), indexes)
    assert not fitting_index(({"status": {"$in": ["PLACED"]}}, []), indexes)


def plan_stages(plan: Any) -> set[str]:
    stages: set[str] = set()
    if isinstance(plan, dict):
        if isinstance(plan.get("stage"), str):
            stages.add(plan["stage"])
        for value in plan.values():
            stages |= plan_stages(value)
    elif isinstance(plan, list):
        for item in plan:
            stages |= plan_stages(item)
    return stages


@pytest.mark.parametrize("name", list(COMMON_QUERIES))
async def test_mongodb_plans_each_common_query_with_an_index(
    database: AsyncDatabase[Any], name: str
) -> None:
    conditions, sort = COMMON_QUERIES[name]
    command: dict[str, Any] = {"find": "orders", "filter": conditions, "limit": 20}
    if sort:
        command["sort"] = dict(sort)
    explained = await database.command("explain", command)
    if "ferretdbVersion" in explained.get("serverInfo", {}):
        pytest.skip("FerretDB with SQLite plans every query as a table scan")
    stages = plan_stages(explained["queryPlanner"]["winningPlan"])
    assert "COLLSCAN" not in stages, (name, stages)
    assert "IXSCAN" in stages or "EXPRESS_IXSCAN" in stages, (name, stages)
