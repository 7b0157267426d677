"""The one in-memory store behind the three simulated channels: orders, feeds, faults.

Every change stamps the order with a per-channel strictly increasing ``updated_at``, and feeds
list orders by ``(updated_at, external_id)``, so keyset paging never skips nor repeats one.
A page is found in a sorted index of those keys (appended to as changes are stamped; an order's
earlier keys are skipped as stale), never by sorting every order of the channel: a feed with
hundreds of thousands of orders answers a page in the time of a few hundred.

The platforms also list orders by when they were placed (Amazon's ``CreatedAfter``, Shopify's
``created_at``, Blinkit's ``created_since_ms``): a second index of ``(placed_at, external_id)``,
each order once, serves those pages.
"""

from __future__ import annotations

import random
from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from operator import attrgetter

from mock_channels.catalog import random_buyer, random_items
from mock_channels.formats import FORMATS
from mock_channels.models import Faults, MockOrder, Shipment
from mock_channels.persistence import ChannelDatabase
from orderhub_common.errors import NotFoundError
from orderhub_common.events import Channel, OrderStatus
from orderhub_common.logging import utc_now

FIRST_ORDER_NUMBER = 1001
SEED_HISTORY = timedelta(days=28)
_TICK = timedelta(microseconds=1)

# How far along its life a seeded order got, most of them all the way.
_SEED_OUTCOMES: dict[OrderStatus, float] = {
    OrderStatus.DELIVERED: 41,
    OrderStatus.SHIPPED: 15,
    OrderStatus.CONFIRMED: 12,
    OrderStatus.PLACED: 13,
    OrderStatus.CANCELLED: 13,
    OrderStatus.RETURNED: 6,
}
_LIFECYCLE = (
    OrderStatus.PLACED,
    OrderStatus.CONFIRMED,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.RETURNED,
)


class MockOrderNotFoundError(NotFoundError):
    code = "order_not_found"


# The moves a channel accepts from a seller: the simulated platform's own lifecycle, not Order
# Hub's. It is kept here on purpose rather than imported from orders.state_machine: a real
# channel's rules do not change when Order Hub's do, and the mock stands in for that outside
# system (a write-back the platform refuses must stay testable). Today both follow CONTRACT.md.
_ACCEPTED_MOVES: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PLACED: frozenset({OrderStatus.CONFIRMED, OrderStatus.CANCELLED}),
    OrderStatus.CONFIRMED: frozenset({OrderStatus.SHIPPED, OrderStatus.CANCELLED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.DELIVERED}),
    OrderStatus.DELIVERED: frozenset({OrderStatus.RETURNED}),
}


@dataclass(frozen=True)
class WriteBackAnswer:
    """What a channel answered a seller's status update, kept under its idempotency key."""

    key: str
    external_id: str
    status: OrderStatus
    accepted: bool
    reason: str | None = None


class WriteBackRejectedError(Exception):
    def __init__(self, answer: WriteBackAnswer) -> None:
        super().__init__(answer.reason)
        self.answer = answer


class FeedOrder(StrEnum):
    """What a feed lists orders by."""

    UPDATED = "updated"  # each order at its latest change: a reader since a time sees every change
    PLACED = "placed"  # each order once, when it was placed: a reader sees the new orders only


@dataclass(frozen=True)
class FeedPosition:
    """Where a feed page ended: the sort key of its last order, in the feed's order."""

    at: datetime
    external_id: str
    by: FeedOrder = FeedOrder.UPDATED


def position_of(order: MockOrder, by: FeedOrder) -> FeedPosition:
    """Where ``order`` stands in the feed listed ``by``."""
    at, external_id = order.sort_key if by is FeedOrder.UPDATED else order.placed_key
    return FeedPosition(at, external_id, by)


@dataclass(frozen=True)
class FeedPage:
    orders: list[MockOrder]
    next_position: FeedPosition | None  # None when this was the last page


class ChannelStore:
    def __init__(
        self,
        *,
        seed: int,
        seed_orders: int,
        clock: Callable[[], datetime] = utc_now,
        database: ChannelDatabase | None = None,
    ) -> None:
        """Seeds each channel's history on first start; with a ``database`` that already holds
        orders, takes up where the last run left off instead."""
        self._clock = clock
        self._database = database
        # Told of every order created or changed after the seed (the website's webhooks).
        self._listeners: list[Callable[[Channel, MockOrder, bool], None]] = []
        # Created orders draw ids from fresh entropy so they never collide with earlier runs.
        self._fresh = random.Random()  # noqa: S311 - ids of a simulation, not secrets
        self._forget()
        if database is not None and not database.is_empty():
            self._load(database)
            return
        seeded = random.Random(seed)  # noqa: S311
        for channel in Channel:
            self._seed(channel, seed_orders, seeded)
            self._save(channel, self._orders[channel].values())
            self._index_everything(channel)

    def subscribe(self, listener: Callable[[Channel, MockOrder, bool], None]) -> None:
        """``listener(channel, order, created)`` after each order created or changed."""
        self._listeners.append(listener)

    def _changed(self, channel: Channel, orders: Iterable[MockOrder], *, created: bool) -> None:
        for order in orders:
            for listener in self._listeners:
                listener(channel, order, created)

    def reset(self) -> None:
        """Empties every channel (on disk too) and clears all faults."""
        self._forget()
        if self._database is not None:
            self._database.clear()

    def _load(self, database: ChannelDatabase) -> None:
        for channel, orders in database.load_orders().items():
            self._orders[channel] = {o.external_id: o for o in orders}
            if orders:
                self._last_stamp[channel] = max(o.updated_at for o in orders)
            self._index_everything(channel)
        self._next_number.update(database.load_counters())
        for channel, answers in database.load_write_backs().items():
            for raw in answers:
                answer = WriteBackAnswer(
                    raw["key"],
                    raw["external_id"],
                    OrderStatus(raw["status"]),
                    raw["accepted"],
                    raw.get("reason"),
                )
                self._write_backs[channel][answer.key] = answer
                if raw.get("applied"):
                    self._applied_write_backs[channel].append(answer)

    def _save(self, channel: Channel, orders: Iterable[MockOrder]) -> None:
        if self._database is not None:
            self._database.save(channel, orders, self._next_number[channel])

    def _forget(self) -> None:
        self._orders: dict[Channel, dict[str, MockOrder]] = {c: {} for c in Channel}
        self._faults: dict[Channel, Faults] = {c: Faults() for c in Channel}
        self._next_number = dict.fromkeys(Channel, FIRST_ORDER_NUMBER)
        self._last_stamp: dict[Channel, datetime] = {}
        # Each channel's feed keys in feed order; an order's earlier keys stay until a rebuild.
        self._feed: dict[Channel, list[tuple[datetime, str]]] = {c: [] for c in Channel}
        # Each channel's orders by placement; an order's key never changes.
        self._placed: dict[Channel, list[tuple[datetime, str]]] = {c: [] for c in Channel}
        # Seller status updates by idempotency key: a repeat gets the first answer, not a redo.
        self._write_backs: dict[Channel, dict[str, WriteBackAnswer]] = {c: {} for c in Channel}
        self._applied_write_backs: dict[Channel, list[WriteBackAnswer]] = {c: [] for c in Channel}

    def create(
        self,
        channel: Channel,
        count: int,
        *,
        placed_between: tuple[datetime, datetime] | None = None,
    ) -> list[MockOrder]:
        """New orders in PLACED, changed now (so feeds list them as new).

        They are placed now, or, with ``placed_between``, at random moments in that window, in
        the order of their order numbers.
        """
        backdated: list[datetime] = []
        if placed_between is not None:
            start, end = placed_between
            backdated = sorted(start + (end - start) * self._fresh.random() for _ in range(count))
        created = []
        for index in range(count):
            at = self._stamp(channel)
            order = self._new_order(channel, self._fresh, at)
            if backdated:
                order.placed_at = backdated[index]
            order.status_times[OrderStatus.PLACED] = order.placed_at
            created.append(order)
        self._index(channel, created)
        placed = self._placed[channel]
        for order in created:
            insort(placed, order.placed_key)
        self._save(channel, created)
        self._changed(channel, created, created=True)
        return created

    def get(self, channel: Channel, external_id: str) -> MockOrder:
        order = self._orders[channel].get(external_id)
        if order is None:
            raise MockOrderNotFoundError(f"{channel} has no order {external_id}")
        return order

    def move(self, channel: Channel, external_id: str, status: OrderStatus) -> MockOrder:
        """Any move a channel might make, backwards ones included: ingest must cope."""
        order = self.get(channel, external_id)
        self._move(channel, order, status)
        self._save(channel, [order])
        self._changed(channel, [order], created=False)
        return order

    def write_back(
        self,
        channel: Channel,
        external_id: str,
        status: OrderStatus,
        *,
        key: str,
        shipment: Shipment | None = None,
    ) -> MockOrder:
        """A seller's status update through the channel's API. Applied once per idempotency
        key (a repeat gets the first answer); refused when the channel's order cannot make that
        move; asking for the status it already has is accepted and changes nothing."""
        order = self.get(channel, external_id)
        seen = self._write_backs[channel].get(key)
        if seen is None:
            applied_before = len(self._applied_write_backs[channel])
            seen = self._answer_write_back(channel, order, status, key, shipment)
            self._write_backs[channel][key] = seen
            if len(self._applied_write_backs[channel]) > applied_before:
                self._changed(channel, [order], created=False)
            if self._database is not None:
                applied = len(self._applied_write_backs[channel]) > applied_before
                self._database.save_write_back(
                    channel, key, {**asdict(seen), "status": seen.status.value, "applied": applied}
                )
                self._save(channel, [order])
        if not seen.accepted:
            raise WriteBackRejectedError(seen)
        return order

    def _answer_write_back(
        self,
        channel: Channel,
        order: MockOrder,
        status: OrderStatus,
        key: str,
        shipment: Shipment | None,
    ) -> WriteBackAnswer:
        if status == order.status:
            return WriteBackAnswer(key, order.external_id, status, accepted=True)
        if status not in _ACCEPTED_MOVES.get(order.status, frozenset()):
            now, then = order.status.value.lower(), status.value.lower()
            reason = f"the order is {now}; it cannot become {then}"
            return WriteBackAnswer(key, order.external_id, status, accepted=False, reason=reason)
        self._move(channel, order, status, shipment)
        answer = WriteBackAnswer(key, order.external_id, status, accepted=True)
        self._applied_write_backs[channel].append(answer)
        return answer

    def applied_write_backs(self, channel: Channel, external_id: str) -> list[WriteBackAnswer]:
        """The seller updates that changed this order, each once."""
        return [a for a in self._applied_write_backs[channel] if a.external_id == external_id]

    def count(self, channel: Channel) -> int:
        return len(self._orders[channel])

    def page(
        self,
        channel: Channel,
        *,
        since: datetime | None,
        after: FeedPosition | None,
        limit: int,
        by: FeedOrder = FeedOrder.UPDATED,
    ) -> FeedPage:
        """Orders updated (or placed) at or after ``since``, past ``after``, in feed order."""
        orders_by_id = self._orders[channel]
        if by is FeedOrder.UPDATED:
            keys, key_of = self._feed[channel], attrgetter("sort_key")
        else:
            keys, key_of = self._placed[channel], attrgetter("placed_key")
        start = 0
        if since is not None:
            start = bisect_left(keys, (since,))  # (t,) sorts before every (t, id)
        if after is not None:
            start = max(start, bisect_right(keys, (after.at, after.external_id)))
        found: list[MockOrder] = []
        for position in range(start, len(keys)):
            key = keys[position]
            order = orders_by_id.get(key[1])
            if order is not None and key_of(order) == key:  # not a key it has moved on from
                found.append(order)
                if len(found) > limit:
                    break
        orders = found[:limit]
        if len(found) <= limit:
            return FeedPage(orders, None)
        return FeedPage(orders, position_of(orders[-1], by))

    def _move(
        self,
        channel: Channel,
        order: MockOrder,
        status: OrderStatus,
        shipment: Shipment | None = None,
    ) -> None:
        """A change after the seed: stamped now, so the feed lists it again at the end."""
        order.move_to(status, self._stamp(channel), shipment=shipment)
        self._index(channel, [order])

    def _index(self, channel: Channel, orders: Iterable[MockOrder]) -> None:
        """Adds the changed orders' new keys; stamps only grow, so they go at the end."""
        feed = self._feed[channel]
        for order in orders:
            key = order.sort_key
            if not feed or key > feed[-1]:
                feed.append(key)
            else:
                insort(feed, key)
        if len(feed) > 2 * len(self._orders[channel]) + 1024:
            self._reindex(channel)  # mostly stale keys: start again from the orders' own

    def _reindex(self, channel: Channel) -> None:
        self._feed[channel] = sorted(order.sort_key for order in self._orders[channel].values())

    def _index_everything(self, channel: Channel) -> None:
        self._reindex(channel)
        self._placed[channel] = sorted(o.placed_key for o in self._orders[channel].values())

    def faults(self, channel: Channel) -> Faults:
        return self._faults[channel]

    def set_faults(self, channel: Channel, faults: Faults) -> None:
        self._faults[channel] = faults

    def _stamp(self, channel: Channel) -> datetime:
        now = self._clock()
        last = self._last_stamp.get(channel)
        if last is not None and now <= last:
            now = last + _TICK
        self._last_stamp[channel] = now
        return now

    def _new_order(self, channel: Channel, rng: random.Random, at: datetime) -> MockOrder:
        external_id = FORMATS[channel].new_external_id(rng)
        while external_id in self._orders[channel]:
            external_id = FORMATS[channel].new_external_id(rng)
        order = MockOrder(
            external_id=external_id,
            number=self._next_number[channel],
            buyer=random_buyer(rng),
            items=random_items(rng),
            status=OrderStatus.PLACED,
            placed_at=at,
            updated_at=at,
        )
        self._next_number[channel] += 1
        self._orders[channel][external_id] = order
        return order

    def _seed(self, channel: Channel, count: int, rng: random.Random) -> None:
        now = self._clock()
        placed_times = sorted(now - SEED_HISTORY * rng.random() for _ in range(count))
        for placed_at in placed_times:
            order = self._new_order(channel, rng, placed_at)
            order.status_times[OrderStatus.PLACED] = placed_at
            outcome = rng.choices(list(_SEED_OUTCOMES), list(_SEED_OUTCOMES.values()))[0]
            self._replay_history(order, outcome, rng, now)

    def _replay_history(
        self, order: MockOrder, outcome: OrderStatus, rng: random.Random, now: datetime
    ) -> None:
        """Walks the order towards ``outcome``, stopping where its age does not allow more."""
        if outcome == OrderStatus.CANCELLED:
            path = [OrderStatus.CANCELLED]
            if rng.random() < 0.5:
                path.insert(0, OrderStatus.CONFIRMED)
        else:
            path = list(_LIFECYCLE[1 : _LIFECYCLE.index(outcome) + 1])
        at = order.placed_at
        for status in path:
            at += timedelta(hours=rng.uniform(1, 36))
            if at >= now:
                return
            order.move_to(status, at)
