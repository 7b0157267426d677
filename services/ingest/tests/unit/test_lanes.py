"""Ingest picks the lane: a new order or a change to an order placed moments ago is live; an
order placed or last changed before the live window (a backfill) is history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ingest.events import lane_of
from orderhub_common.events import ChannelOrder
from orderhub_common.kafka import Lane

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
WINDOW = timedelta(hours=1)


def order(placed_at: datetime, updated_at: datetime) -> ChannelOrder:
    # Only the two times decide the lane.
    return ChannelOrder.model_construct(placed_at=placed_at, updated_at=updated_at)


def test_a_new_order_is_live() -> None:
    assert lane_of(order(NOW - timedelta(seconds=3), NOW), NOW, WINDOW) == Lane.LIVE


def test_an_order_of_last_week_is_history_however_recently_the_channel_touched_it() -> None:
    assert lane_of(order(NOW - timedelta(days=7), NOW), NOW, WINDOW) == Lane.HISTORY


def test_a_change_the_channel_made_long_ago_is_history() -> None:
    old = NOW - timedelta(days=2)
    assert lane_of(order(old, old), NOW, WINDOW) == Lane.HISTORY
