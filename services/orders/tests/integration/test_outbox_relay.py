"""The relay against the real store, with Kafka replaced by a recording publisher so each
publish attempt can be counted and made to fail."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from devstack.pytest_plugin import InfraUrls
from orderhub_common.events import OrderStatus, StatusHistoryEntry, StatusSource
from orderhub_common.resources import MongoResource
from orders.documents import OrderDocument, OutboxDocument, OutboxEntry
from orders.events import OutboxRelay, status_changed_event
from orders.repository import OrderChange, OrderRepository
from orders.service import OrderService, order_id_for

from .conftest import T0, channel_order

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
async def repository(infra: InfraUrls, unique_name: str) -> AsyncIterator[OrderRepository]:
    mongo = MongoResource(infra.mongodb_url, unique_name, [OrderDocument, OutboxDocument])
    await mongo.connect()
    try:
        yield OrderRepository()
    finally:
        await mongo.client.drop_database(unique_name)
        await mongo.close()


async def stored_event_ids(order_id: str) -> list[str]:
    """The order's events waiting in the outbox, in publishing order."""
    waiting = (
        await OutboxDocument.find({"orderId": order_id}).sort("+revision", "+position").to_list()
    )
    return [entry.id for entry in waiting]


async def test_each_change_is_published_once_in_order_with_its_stored_event_id(
    repository: OrderRepository,
) -> None:
    service = OrderService(repository)
    await service.record_channel_order(channel_order("R-1"))
    order_id = order_id_for("website", "R-1")
    await service.move_status(order_id, OrderStatus.CONFIRMED, changed_by="u-1", note=None)
    pending = await stored_event_ids(order_id)
    publisher = RecordingPublisher()
    relay = OutboxRelay(repository, publisher)

    assert await relay.relay_once() == 2
    assert await relay.relay_once() == 0

    assert publisher.published == [
        (order_id, pending[0], "order.created"),
        (order_id, pending[1], "order.status_changed"),
    ]
    assert await stored_event_ids(order_id) == []


async def test_an_event_whose_publish_failed_is_published_later_with_the_same_id(
    repository: OrderRepository,
) -> None:
    service = OrderService(repository)
    await service.record_channel_order(channel_order("R-2"))
    await service.record_channel_order(
        channel_order("R-2", status=OrderStatus.SHIPPED, updated_at=T0 + timedelta(hours=1))
    )
    order_id = order_id_for("website", "R-2")
    created, confirmed, shipped = await stored_event_ids(order_id)
    publisher = RecordingPublisher(fail_on_call=2)
    relay = OutboxRelay(repository, publisher)

    assert await relay.relay_once() == 1
    assert await stored_event_ids(order_id) == [confirmed, shipped]
    assert await relay.relay_once() == 2

    assert [event_id for _, event_id, _ in publisher.published] == [created, confirmed, shipped]


async def test_concurrent_relays_publish_each_event_once(repository: OrderRepository) -> None:
    service = OrderService(repository)
    for n in range(20):
        await service.record_channel_order(channel_order(f"R-C-{n}"))
    publisher = RecordingPublisher()
    relays = [OutboxRelay(repository, publisher, lease_s=30) for _ in range(3)]

    await asyncio.gather(*(relay.relay_once() for relay in relays))
    await asyncio.gather(*(relay.relay_once() for relay in relays))

    event_ids = [event_id for _, event_id, _ in publisher.published]
    assert len(event_ids) == 20
    assert len(set(event_ids)) == 20


async def test_the_event_of_a_change_that_was_never_written_is_never_published(
    repository: OrderRepository,
) -> None:
    service = OrderService(repository)
    await service.record_channel_order(channel_order("R-P"))
    order_id = order_id_for("website", "R-P")
    stored = await repository.get(order_id)
    assert stored is not None
    entry = StatusHistoryEntry(
        status=OrderStatus.CANCELLED, changed_at=T0, source=StatusSource.ADMIN, changed_by="u-2"
    )
    # A write computed from a revision that moved on meanwhile: its events reach the outbox
    # first, then the order write is refused.
    await service.move_status(order_id, OrderStatus.CONFIRMED, changed_by="u-1", note=None)
    lost = OrderChange(
        order_id=order_id,
        external_id="R-P",
        expected_revision=stored.revision,
        status=OrderStatus.CANCELLED,
        channel_updated_at=stored.channel_updated_at,
        history=[entry],
        events=[status_changed_event(stored.order, OrderStatus.PLACED, entry)],
    )
    assert not await repository.apply(lost)
    assert len(await stored_event_ids(order_id)) == 3
    publisher = RecordingPublisher()

    assert await OutboxRelay(repository, publisher).relay_once() == 2

    assert [event_type for _, _, event_type in publisher.published] == [
        "order.created",
        "order.status_changed",
    ]
    assert await stored_event_ids(order_id) == []
    order = await service.get(order_id)
    assert order.status == OrderStatus.CONFIRMED
