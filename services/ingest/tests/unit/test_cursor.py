from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ingest.cursor import FeedCursor, PlacementCursor
from orderhub_common.events import ChannelOrder
from orderhub_common.testing import channel_order

pytestmark = pytest.mark.unit

T0 = datetime(2026, 11, 20, 10, 0, 0, tzinfo=UTC)


def order(external_id: str, updated_at: datetime, status: str = "PLACED") -> ChannelOrder:
    return channel_order(external_id, status=status, placed_at=T0, updated_at=updated_at)


def test_a_new_cursor_takes_everything() -> None:
    assert FeedCursor().is_news(order("1", T0))


def test_orders_at_the_newest_second_are_not_republished_unless_they_changed() -> None:
    cursor = FeedCursor().advanced([order("1", T0), order("2", T0)], next_token=None)
    assert cursor.since == T0
    assert not cursor.is_news(order("1", T0))
    assert cursor.is_news(order("3", T0)), "a new order within the same second"
    assert cursor.is_news(order("2", T0, "CONFIRMED")), "a change within the same second"
    assert cursor.is_news(order("1", T0 + timedelta(seconds=1)))
    assert not cursor.is_news(order("9", T0 - timedelta(seconds=1)))


def test_advancing_moves_to_the_newest_time_and_forgets_older_boundaries() -> None:
    cursor = FeedCursor().advanced([order("1", T0)], next_token="page-2")
    later = T0 + timedelta(seconds=5)
    cursor = cursor.advanced([order("2", later), order("3", later)], next_token=None)
    assert cursor.since == later
    assert set(cursor.published_at_since) == {"2", "3"}
    assert cursor.page_token is None


def test_same_second_pages_accumulate_the_boundary() -> None:
    cursor = FeedCursor().advanced([order("1", T0)], next_token="page-2")
    cursor = cursor.advanced([order("2", T0)], next_token=None)
    assert set(cursor.published_at_since) == {"1", "2"}


def test_an_empty_page_keeps_the_position() -> None:
    cursor = FeedCursor().advanced([order("1", T0)], next_token=None)
    assert cursor.advanced([], next_token=None) == cursor


def test_cursor_survives_its_json_form() -> None:
    cursor = FeedCursor().advanced([order("1", T0)], next_token="abc")
    assert FeedCursor.model_validate_json(cursor.model_dump_json()) == cursor


SECOND = timedelta(seconds=1)
GRACE = timedelta(seconds=5)


def test_a_burst_in_one_second_is_stepped_past_once_that_second_is_surely_over() -> None:
    burst = [order(str(i), T0) for i in range(300)]
    cursor = FeedCursor().advanced(burst, next_token=None)

    too_early = cursor.settled(read_at=T0 + SECOND + GRACE / 2, resolution=SECOND, grace=GRACE)
    assert too_early == cursor, "an order could still land in that second"

    settled = cursor.settled(read_at=T0 + SECOND + GRACE, resolution=SECOND, grace=GRACE)
    assert settled.since == T0 + SECOND
    assert settled.published_at_since == {}
    assert not settled.is_news(order("1", T0))
    assert settled.is_news(order("1", T0 + SECOND))


def test_a_pass_in_progress_is_never_stepped_past() -> None:
    cursor = FeedCursor().advanced([order("1", T0)], next_token="page-2")
    late = T0 + timedelta(hours=1)
    assert cursor.settled(read_at=late, resolution=SECOND, grace=GRACE) == cursor


def test_a_cursor_saved_by_an_earlier_release_still_reads() -> None:
    saved = '{"updated_since": "2026-11-20T10:00:00Z", "published_at_since": {"1": "ab"}}'
    cursor = FeedCursor.model_validate_json(saved)
    assert (cursor.since, cursor.published_at_since) == (T0, {"1": "ab"})


def test_a_placement_cursor_follows_placement_not_change() -> None:
    changed_later = channel_order("1", placed_at=T0, updated_at=T0 + timedelta(hours=1))
    cursor = PlacementCursor().advanced([changed_later], next_token=None)
    assert cursor.since == T0
    assert not cursor.is_news(changed_later)
    assert cursor.is_news(channel_order("2", placed_at=T0 + SECOND, updated_at=T0 + SECOND))
