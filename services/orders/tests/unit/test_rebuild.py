"""A rebuild of the query side never leaves it emptier than the store it could not read."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any, cast

import pymongo.errors
import pytest

from orders.query_side import ProjectedOrder, QuerySide
from orders.rebuild import rebuild_query_side
from orders.repository import OrderRepository

pytestmark = pytest.mark.unit


class RecordingQuerySide:
    def __init__(self) -> None:
        self.calls: list[str] = []

    async def clear(self) -> None:
        self.calls.append("clear")

    async def project(self, orders: Iterable[ProjectedOrder]) -> int:
        self.calls.append(f"project {len(list(orders))}")
        return 0


class UnreadableStore:
    async def all_orders(self) -> AsyncIterator[list[Any]]:
        raise pymongo.errors.OperationFailure("Command find requires authentication", code=13)
        yield []  # an async generator, as the repository's


class StoreOfBatches:
    async def all_orders(self) -> AsyncIterator[list[Any]]:
        for size in (2, 1):
            yield [type("Stored", (), {"order": None, "revision": 1})()] * size


async def test_a_store_that_cannot_be_read_leaves_the_projection_as_it_was() -> None:
    query_side = RecordingQuerySide()

    with pytest.raises(pymongo.errors.OperationFailure):
        await rebuild_query_side(
            cast(OrderRepository, UnreadableStore()), cast(QuerySide, query_side)
        )

    assert query_side.calls == []


async def test_the_projection_is_emptied_once_then_given_every_batch() -> None:
    query_side = RecordingQuerySide()

    projected = await rebuild_query_side(
        cast(OrderRepository, StoreOfBatches()), cast(QuerySide, query_side)
    )

    assert projected == 3
    assert query_side.calls == ["clear", "project 2", "project 1"]
