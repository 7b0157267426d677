from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mock_channels.store import ChannelStore, FeedOrder, MockOrderNotFoundError
from orderhub_common.events import Channel, OrderStatus

pytestmark = pytest.mark.unit


class FrozenClock:
    """A clock that only moves when told, so equal timestamps are easy to provoke."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def read_everything(store: ChannelStore, channel: Channel, limit: int) -> list[str]:
    seen: list[str] = []
    after = None
    while True:
        page = store.page(channel, since=None, after=after, limit=limit)
        seen += [o.external_id for o in page.orders]
        if page.next_position is None:
            return seen
        after = page.next_position


def test_seeded_history_is_deterministic_and_covers_every_status() -> None:
    first = ChannelStore(seed=7, seed_orders=150)
    second = ChannelStore(seed=7, seed_orders=150)
    for channel in Channel:
        ids = read_everything(first, channel, limit=1000)
        assert len(ids) == 150
        assert ids == read_everything(second, channel, limit=1000)
        statuses = {first.get(channel, i).status for i in ids}
        assert statuses == set(OrderStatus)


def test_seeded_orders_lie_in_the_past_weeks() -> None:
    store = ChannelStore(seed=3, seed_orders=50)
    now = datetime.now(UTC)
    orders = [store.get(Channel.AMAZON, i) for i in read_everything(store, Channel.AMAZON, 100)]
    assert all(now - timedelta(days=29) < o.placed_at <= o.updated_at < now for o in orders)


def test_paging_with_equal_timestamps_returns_every_order_once() -> None:
    clock = FrozenClock()
    store = ChannelStore(seed=1, seed_orders=0, clock=clock)
    created = [o.external_id for o in store.create(Channel.WEBSITE, 25)]
    assert sorted(read_everything(store, Channel.WEBSITE, limit=4)) == sorted(created)


def test_an_order_changed_while_paging_shows_up_again_later_and_none_is_skipped() -> None:
    clock = FrozenClock()
    store = ChannelStore(seed=1, seed_orders=0, clock=clock)
    created = [o.external_id for o in store.create(Channel.BLINKIT, 10)]
    first = store.page(Channel.BLINKIT, since=None, after=None, limit=5)
    moved = first.orders[0].external_id
    store.move(Channel.BLINKIT, moved, OrderStatus.CONFIRMED)
    rest = store.page(Channel.BLINKIT, since=None, after=first.next_position, limit=50)
    seen = [o.external_id for o in first.orders + rest.orders]
    assert set(seen) == set(created)
    assert seen[-1] == moved


def test_updated_since_is_inclusive() -> None:
    clock = FrozenClock()
    store = ChannelStore(seed=1, seed_orders=0, clock=clock)
    [old] = store.create(Channel.AMAZON, 1)
    clock.now += timedelta(seconds=5)
    [new] = store.create(Channel.AMAZON, 1)
    page = store.page(Channel.AMAZON, since=new.updated_at, after=None, limit=10)
    assert [o.external_id for o in page.orders] == [new.external_id]
    assert old.updated_at < new.updated_at


def test_a_status_move_bumps_the_update_time_even_backwards() -> None:
    clock = FrozenClock()
    store = ChannelStore(seed=1, seed_orders=0, clock=clock)
    [order] = store.create(Channel.WEBSITE, 1)
    placed_update = order.updated_at
    store.move(Channel.WEBSITE, order.external_id, OrderStatus.DELIVERED)
    store.move(Channel.WEBSITE, order.external_id, OrderStatus.CONFIRMED)
    assert order.status == OrderStatus.CONFIRMED
    assert order.updated_at > placed_update


def test_unknown_order_is_not_found() -> None:
    store = ChannelStore(seed=1, seed_orders=0)
    with pytest.raises(MockOrderNotFoundError):
        store.move(Channel.AMAZON, "403-0000000-0000000", OrderStatus.SHIPPED)


def test_reset_empties_every_channel() -> None:
    store = ChannelStore(seed=1, seed_orders=20)
    store.reset()
    assert [store.count(c) for c in Channel] == [0, 0, 0]


def test_backdated_orders_are_placed_in_the_window_in_number_order_and_changed_now() -> None:
    clock = FrozenClock()
    store = ChannelStore(seed=1, seed_orders=0, clock=clock)
    window = (clock.now - timedelta(days=21), clock.now - timedelta(days=20))
    orders = store.create(Channel.BLINKIT, 30, placed_between=window)
    assert all(window[0] <= o.placed_at <= window[1] for o in orders)
    assert [o.placed_at for o in orders] == sorted(o.placed_at for o in orders)
    assert all(o.updated_at >= clock.now for o in orders)
    assert all(o.status_times == {OrderStatus.PLACED: o.placed_at} for o in orders)
    # The feed lists them as changed now, so an incremental reader since "now" still sees them.
    page = store.page(Channel.BLINKIT, since=clock.now, after=None, limit=100)
    assert len(page.orders) == 30


def test_the_feed_lists_each_order_once_at_its_latest_change_after_many_changes() -> None:
    store = ChannelStore(seed=5, seed_orders=300)
    ids = read_everything(store, Channel.WEBSITE, limit=1000)
    # Enough changes that most of the feed's keys are stale and it is rebuilt at least once.
    for _round in range(6):
        for external_id in ids[::2]:
            order = store.get(Channel.WEBSITE, external_id)
            store.move(Channel.WEBSITE, external_id, _next_status(order.status))
    ids += [o.external_id for o in store.create(Channel.WEBSITE, 40)]

    every = sorted((store.get(Channel.WEBSITE, i) for i in ids), key=lambda o: o.sort_key)
    assert read_everything(store, Channel.WEBSITE, limit=7) == [o.external_id for o in every]
    since = every[200].updated_at
    page = store.page(Channel.WEBSITE, since=since, after=None, limit=1000)
    assert [o.external_id for o in page.orders] == [o.external_id for o in every[200:]]


def _next_status(status: OrderStatus) -> OrderStatus:
    return OrderStatus.CONFIRMED if status != OrderStatus.CONFIRMED else OrderStatus.SHIPPED


def test_the_placed_feed_lists_each_order_once_by_placement_whatever_its_changes() -> None:
    clock = FrozenClock()
    store = ChannelStore(seed=1, seed_orders=0, clock=clock)
    [early] = store.create(Channel.AMAZON, 1)
    fresh = []
    for _ in range(3):
        clock.now += timedelta(minutes=1)
        fresh += store.create(Channel.AMAZON, 1)
    # A history imported later is placed before both, and changes keep coming to every order.
    window = (clock.now - timedelta(days=3), clock.now - timedelta(days=2))
    history = store.create(Channel.AMAZON, 5, placed_between=window)
    store.move(Channel.AMAZON, early.external_id, OrderStatus.CONFIRMED)
    store.move(Channel.AMAZON, fresh[0].external_id, OrderStatus.CANCELLED)

    def placed_since(since: datetime | None, limit: int) -> list[str]:
        seen, after = [], None
        while True:
            page = store.page(
                Channel.AMAZON, since=since, after=after, limit=limit, by=FeedOrder.PLACED
            )
            seen += [o.external_id for o in page.orders]
            if page.next_position is None:
                return seen
            after = page.next_position

    every = [o.external_id for o in [*history, early, *fresh]]
    assert placed_since(None, limit=2) == every
    assert placed_since(fresh[0].placed_at, limit=2) == [o.external_id for o in fresh]
