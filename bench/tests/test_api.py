from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bench.api import cache_busting_from

pytestmark = pytest.mark.unit


def test_every_call_gets_a_from_the_cache_has_not_seen_that_filters_no_order() -> None:
    values = [cache_busting_from(n) for n in range(1000)]
    assert len(set(values)) == 1000
    assert all(value.endswith("Z") and value < "2000-01-02" for value in values)


def test_placed_since_filters_move_back_by_microseconds_only() -> None:
    since = datetime(2026, 12, 1, 12, 0, 5, tzinfo=UTC)
    assert cache_busting_from(0, since) == "2026-12-01T12:00:05Z"
    assert cache_busting_from(17, since) == "2026-12-01T12:00:04.999983Z"
