"""A served service's collector leaves what it built before serving alone, and still frees
the cycles that requests leave behind."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from orderhub_common.app import YOUNG_GENERATION_OBJECTS, settle_heap

pytestmark = pytest.mark.unit


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture
def settled() -> Iterator[None]:
    threshold = gc.get_threshold()
    try:
        yield settle_heap()
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


def test_what_was_built_before_serving_is_out_of_the_collectors_reach() -> None:
    built_at_start = {"routes": [Node() for _ in range(3)]}
    threshold = gc.get_threshold()
    try:
        settle_heap()
        tracked = {id(o) for generation in range(3) for o in gc.get_objects(generation)}
        assert id(built_at_start) not in tracked
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


def test_a_request_holding_thousands_of_objects_starts_no_collection(settled: None) -> None:
    gc.collect()
    collections = sum(generation["collections"] for generation in gc.get_stats())
    held_by_one_request = [{"row": n} for n in range(YOUNG_GENERATION_OBJECTS // 2)]
    assert sum(generation["collections"] for generation in gc.get_stats()) == collections
    assert len(held_by_one_request) == YOUNG_GENERATION_OBJECTS // 2


def test_a_cycle_a_request_leaves_is_still_freed(settled: None) -> None:
    first, second = Node(), Node()
    first.other, second.other = second, first
    gone = weakref.ref(first)
    del first, second
    assert gone() is not None  # a cycle: reference counting alone never frees it
    gc.collect()
    assert gone() is None
