"""The relay against the real stores, with Kafka replaced by a recording publisher so each
publish attempt can be counted and made to fail."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection
from datetime import timedelta
from typing import cast

import orjson
import pytest

from devstack.pytest_plugin import eventually
from orderhub_common.events import OrderStatus
from orderhub_common.resources import stop_tasks
from orderhub_common.testing import channel_order
from orders.changes import admin_move, new_order, order_id_for
from orders.documents import OutboxDocument, OutboxEntry
from orders.outbox_relay import OutboxRelay
from orders.query_side import ProjectionLag, QuerySide
from orders.repository import OrderRepository
from orders.schemas import OrderListQuery
from orders.service import ChannelOutcome, OrderService

from .conftest import T0, QuerySideAway, record

pytestmark = pytest.mark.integration


class RecordingPublisher:
    def __init__(self, *, fail_on_call: int | None = None) -> None:
        self.published: list[tuple[str, str, str]] = []
        self.calls = 0
        self.fail_on_call = fail_on_call

    async def __call__(self, order_id: str, entry: OutboxEntry) -> None:
        self.calls += 1
        if self.calls == self.fail_on_call:
            raise ConnectionError("Kafka went away")
        await asyncio.sleep(0)  # lets concurrent relays interleave
        self.published.append((order_id, entry.event_id, entry.event_type))


@pytest.fixture
def relay_for(repository: OrderRepository, query_side: QuerySide) -> Callable[..., OutboxRelay]:
    def relay(publisher: RecordingPublisher, **options: float) -> OutboxRelay:
        # Sweeps look at every entry, however young (the fast way is tested on its own).
        options.setdefault("confirm_grace_s", 0)
        return OutboxRelay(repository, query_side, publisher, **options)  # type: ignore[arg-type]

    return relay


async def stored_event_ids(order_id: str) -> list[str]:
    """The order's events waiting in the outbox, in publishing order."""
    waiting = (
        await OutboxDocument.find({"orderId": order_id}).sort("+revision", "+position").to_list()
    )
    return [entry.id for entry in waiting]


async def test_each_change_is_published_once_in_order_with_its_stored_event_id(
    service: OrderService, relay_for: Callable[..., OutboxRelay]
) -> None:
    await record(service, channel_order("R-1"))
    order_id = order_id_for("website", "R-1")
    await service.move_status(order_id, OrderStatus.CONFIRMED, changed_by="u-1", note=None)
    pending = await stored_event_ids(order_id)
    publisher = RecordingPublisher()
    relay = relay_for(publisher)

    assert await relay.relay_once() == 2
    assert await relay.relay_once() == 0

    assert publisher.published == [
        (order_id, pending[0], "order.created"),
        (order_id, pending[1], "order.status_changed"),
    ]
    assert await stored_event_ids(order_id) == []


async def test_an_event_whose_publish_failed_is_published_later_with_the_same_id(
    service: OrderService, relay_for: Callable[..., OutboxRelay]
) -> None:
    await record(service, channel_order("R-2"))
    await record(
        service,
        channel_order("R-2", status=OrderStatus.SHIPPED, updated_at=T0 + timedelta(hours=1)),
    )
    order_id = order_id_for("website", "R-2")
    created, confirmed, shipped = await stored_event_ids(order_id)
    publisher = RecordingPublisher(fail_on_call=2)
    relay = relay_for(publisher)

    assert await relay.relay_once() == 1
    assert await stored_event_ids(order_id) == [confirmed, shipped]
    assert await relay.relay_once() == 2

    assert [event_id for _, event_id, _ in publisher.published] == [created, confirmed, shipped]


async def test_concurrent_relays_publish_each_event_once(
    service: OrderService, relay_for: Callable[..., OutboxRelay]
) -> None:
    for n in range(20):
        await record(service, channel_order(f"R-C-{n}"))
    publisher = RecordingPublisher()
    relays = [relay_for(publisher, lease_s=30) for _ in range(3)]

    await asyncio.gather(*(relay.relay_once() for relay in relays))
    await asyncio.gather(*(relay.relay_once() for relay in relays))

    event_ids = [event_id for _, event_id, _ in publisher.published]
    assert len(event_ids) == 20
    assert len(set(event_ids)) == 20


async def test_a_relay_that_stops_hands_its_lease_to_the_next_start_at_once(
    service: OrderService, relay_for: Callable[..., OutboxRelay]
) -> None:
    """A deploy stops the service and starts it again: the new process relays at once, instead
    of waiting out the lease of the process it replaced."""
    stopping = relay_for(RecordingPublisher(), lease_s=30)
    await record(service, channel_order("R-DEPLOY-1"))
    assert await stopping.relay_once() == 1  # it holds the lease
    running = asyncio.create_task(stopping.run())
    await asyncio.sleep(0.1)
    assert not await stop_tasks([running], timeout_s=10)

    await record(service, channel_order("R-DEPLOY-2"))
    publisher = RecordingPublisher()
    assert await relay_for(publisher, lease_s=30).relay_once() == 1
    assert [event_type for _, _, event_type in publisher.published] == ["order.created"]


async def test_the_event_of_a_change_that_was_never_written_is_never_published(
    repository: OrderRepository, service: OrderService, relay_for: Callable[..., OutboxRelay]
) -> None:
    await record(service, channel_order("R-P"))
    order_id = order_id_for("website", "R-P")
    stored = await repository.get(order_id)
    assert stored is not None
    # A write computed from a revision that moved on meanwhile: its events reach the outbox
    # first, then the order write is refused.
    await service.move_status(order_id, OrderStatus.CONFIRMED, changed_by="u-1", note=None)
    lost = admin_move(stored, OrderStatus.CANCELLED, changed_by="u-2", note=None)
    assert not await repository.apply(lost)
    assert len(await stored_event_ids(order_id)) == 3
    publisher = RecordingPublisher()

    assert await relay_for(publisher).relay_once() == 2

    assert [event_type for _, _, event_type in publisher.published] == [
        "order.created",
        "order.status_changed",
    ]
    assert await stored_event_ids(order_id) == []
    order = await service.get(order_id)
    assert order.status == OrderStatus.CONFIRMED


@pytest.mark.parametrize(("batch_size", "lag_after"), [(500, False), (1, True)])
async def test_the_entry_of_a_lost_race_leaves_order_details_on_the_query_side(
    repository: OrderRepository,
    service: OrderService,
    relay_for: Callable[..., OutboxRelay],
    batch_size: int,
    lag_after: bool,
) -> None:
    await record(service, channel_order("R-RACE"))
    order_id = order_id_for("website", "R-RACE")
    stored = await repository.get(order_id)
    assert stored is not None
    clock = [0.0]
    lag = ProjectionLag(settle_s=60, clock=lambda: clock[0])
    publisher = RecordingPublisher()
    relay = relay_for(publisher, projection_lag=lag, batch_size=batch_size)
    # Two changes computed from one revision (a write-back's answer and the channel's own
    # update, say): the first is stored and swept up, the second refused.
    assert await repository.apply(
        admin_move(stored, OrderStatus.CONFIRMED, changed_by="u-1", note=None)
    )
    while await relay.relay_once():
        pass
    assert len(publisher.published) == 2
    assert lag.possible
    clock[0] += 61
    assert not await repository.apply(
        admin_move(stored, OrderStatus.CANCELLED, changed_by="u-2", note=None)
    )
    assert len(await stored_event_ids(order_id)) == 1

    assert await relay.relay_once() == 0

    assert await stored_event_ids(order_id) == []
    # Nothing stored waits for the query side, so order details keep being read there; unless
    # the sweep's batch was full, and what lies beyond it went unseen.
    assert lag.possible is lag_after


async def test_a_change_whose_writer_died_before_projecting_it_reaches_the_query_side(
    repository: OrderRepository, query_side: QuerySide
) -> None:
    # Stored and its event in the outbox, but the process died before the projection write.
    await repository.insert_many([new_order(channel_order("R-LATE"))])
    assert (await query_side.page(OrderListQuery())).total == 0
    lag = ProjectionLag(settle_s=60)
    relay = OutboxRelay(
        repository, query_side, RecordingPublisher(), confirm_grace_s=0, projection_lag=lag
    )
    assert not lag.possible

    await relay.relay_once()

    page = await query_side.page(OrderListQuery())
    assert [o.external_id for o in page.orders] == ["R-LATE"]
    # Until the query side has had time to catch up, order details are read from MongoDB.
    assert lag.possible


async def test_confirmed_writes_go_out_without_a_sweep_and_a_failure_hands_over_in_order(
    repository: OrderRepository, query_side: QuerySide
) -> None:
    publisher = RecordingPublisher(fail_on_call=2)
    relay = OutboxRelay(repository, query_side, publisher, confirm_grace_s=60)  # type: ignore[arg-type]
    service = OrderService(repository, query_side, on_written=relay.confirm)
    await record(service, channel_order("F-1"), channel_order("F-2"))
    f1, f2 = order_id_for("website", "F-1"), order_id_for("website", "F-2")
    await service.move_status(f1, OrderStatus.CONFIRMED, changed_by="u-1", note=None)

    # Without reading the outbox: three events, the second publish attempt fails.
    assert await relay.publish_confirmed() == 2
    assert publisher.calls == 3
    # Young entries are normally left to the fast way; after a failure the sweep takes all.
    while await relay.relay_once():
        pass
    assert await stored_event_ids(f1) == []
    assert await stored_event_ids(f2) == []
    by_order: dict[str, list[str]] = {}
    for order_id, _, event_type in publisher.published:
        by_order.setdefault(order_id, []).append(event_type)
    assert by_order[f2] == ["order.created"]
    # At least once, in order: a repeat of order.created may precede the move, never follow it.
    assert by_order[f1][-1] == "order.status_changed"
    assert set(by_order[f1][:-1]) == {"order.created"}


class FlakyRepository(OrderRepository):
    """The store times out once when the relay deletes published entries."""

    def __init__(self) -> None:
        super().__init__()
        self.failures_left = 1

    async def remove_from_outbox(self, event_ids: Collection[str]) -> None:
        if self.failures_left:
            self.failures_left -= 1
            raise TimeoutError("the store did not answer in time")
        await super().remove_from_outbox(event_ids)


async def test_a_store_error_in_one_round_does_not_stop_the_fast_way(
    repository: OrderRepository, query_side: QuerySide
) -> None:
    flaky = FlakyRepository()
    publisher = RecordingPublisher()
    relay = OutboxRelay(flaky, query_side, publisher, confirm_grace_s=600, sweep_interval_s=600)  # type: ignore[arg-type]
    service = OrderService(flaky, query_side, on_written=relay.confirm)
    running = asyncio.create_task(relay.run())
    try:
        await record(service, channel_order("S-1"))
        await eventually(lambda: _true(len(publisher.published) == 1), what="S-1 announced")
        await record(service, channel_order("S-2"))
        # Announced at once, without the ten-minute sweep: the fast way survived the error.
        await eventually(lambda: _true(len(publisher.published) == 2), what="S-2 announced")
    finally:
        # A relay left running would go on working the next test's store (Beanie is global).
        assert not await stop_tasks([running], timeout_s=5)
    assert await stored_event_ids(order_id_for("website", "S-2")) == []


async def _true(value: bool) -> bool:
    return value


async def test_a_refresh_stored_while_the_query_side_was_away_reaches_it_with_the_sweep(
    repository: OrderRepository, query_side: QuerySide
) -> None:
    publisher = RecordingPublisher()
    now = 1000.0
    lag = ProjectionLag(settle_s=60, clock=lambda: now)
    relay = OutboxRelay(repository, query_side, publisher, confirm_grace_s=0, projection_lag=lag)  # type: ignore[arg-type]
    placed = [channel_order(ref, updated_at=T0) for ref in ("A-1", "B-1")]
    await record(OrderService(repository, query_side), *placed)
    renamed_id, confirmed_id = order_id_for("website", "A-1"), order_id_for("website", "B-1")
    await relay.relay_once()  # both order.created are out: the outbox holds nothing of them
    assert len(publisher.published) == 2
    now += 61
    assert not lag.possible
    # In one batch, while PostgreSQL is away: A-1's newer copy moves no status, so its change
    # has no event of its own (a new customer name); B-1's channel confirmed it (an event).
    away = QuerySideAway(query_side)
    later = T0 + timedelta(minutes=5)
    renamed = channel_order(
        "A-1",
        updated_at=later,
        customer={"name": "Priya Iyer", "phone": "+91 98765 43210", "email": "priya@example.com"},
    )
    confirmed = channel_order("B-1", updated_at=later, status="CONFIRMED")
    assert await record(OrderService(repository, cast(QuerySide, away)), renamed, confirmed) == [
        ChannelOutcome.UPDATED,
        ChannelOutcome.UPDATED,
    ]

    # B-1's event, and A-1's projection marker (carried out, nothing published for it).
    assert await relay.relay_once() == 2

    served = await query_side.order_document(renamed_id)
    assert served is not None
    assert orjson.loads(served.document)["customer"]["name"] == "Priya Iyer"
    found = await query_side.page(OrderListQuery(search="iyer"))
    assert [o.id for o in found.orders] == [renamed_id]
    confirmed_list = await query_side.page(OrderListQuery(status=[OrderStatus.CONFIRMED]))
    assert [o.id for o in confirmed_list.orders] == [confirmed_id]
    # Only what the channel moved is announced, once; nothing is left to do.
    assert [(o, t) for o, _, t in publisher.published[2:]] == [
        (confirmed_id, "order.status_changed")
    ]
    assert await stored_event_ids(renamed_id) == []
    assert await stored_event_ids(confirmed_id) == []
    assert lag.possible  # the query side was behind until this sweep
