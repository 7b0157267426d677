"""The write-back relay against the real store: with more than one replica the channel gets each
status move once, from the holder of the relay lease, and when that holder stops another replica
takes over; the fast way and the order of each order's requests. The channel is an HTTP transport
that notes every call."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import pytest

from devstack.pytest_plugin import eventually
from orderhub_common.events import Order, OrderStatus, Shipment
from orderhub_common.resources import stop_tasks
from orderhub_common.testing import channel_order
from orders.changes import admin_move, order_id_for
from orders.documents import OrderDocument
from orders.query_side import QuerySide
from orders.repository import OrderRepository
from orders.service import OrderService
from orders.write_back import ChannelWriter, WriteBackRelay

from .conftest import record

pytestmark = pytest.mark.integration

# Long enough that a replica starved of CPU on a busy machine still renews in time, short enough
# that the takeover below waits only a few seconds.
LEASE_S = 3.0


class CountingChannel:
    """Blinkit's status API: answers every call, and notes which relay sent which idempotency
    key. Each answer takes a moment, so two relays' rounds overlap."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def client(self, relay: str) -> httpx.AsyncClient:
        async def answer(request: httpx.Request) -> httpx.Response:
            await asyncio.sleep(0.02)
            self.sent.append((relay, request.headers["X-Idempotency-Key"]))
            return httpx.Response(200, json={"order": {"status": "accepted"}})

        return httpx.AsyncClient(
            transport=httpx.MockTransport(answer), base_url="http://channels.test"
        )

    def calls_per_key(self, keys: set[str]) -> Counter[str]:
        return Counter(key for _, key in self.sent if key in keys)

    def senders(self, keys: set[str]) -> set[str]:
        return {relay for relay, key in self.sent if key in keys}


async def move_all(
    service: OrderService,
    order_ids: list[str],
    status: OrderStatus,
    relays: list[WriteBackRelay],
) -> set[str]:
    """Moves every order (each replica woken, as its own writes would wake it); returns the
    write-backs' idempotency keys."""
    keys: set[str] = set()
    for order_id in order_ids:
        moved = await service.move_status(order_id, status, changed_by="u-1", note=None)
        assert moved.write_back is not None
        keys.add(moved.write_back.idempotency_key)
        for relay in relays:
            relay.wake()
    return keys


async def test_two_relays_send_each_write_back_once_and_one_takes_over_when_the_holder_stops(
    repository: OrderRepository, service: OrderService
) -> None:
    order_ids = []
    for n in range(12):
        await record(service, channel_order(f"WB-{n}", channel="blinkit"))
        order_ids.append(order_id_for("blinkit", f"WB-{n}"))
    channel = CountingChannel()

    def replica(name: str) -> WriteBackRelay:
        return WriteBackRelay(
            repository,
            service,
            ChannelWriter(channel.client(name), retry_initial_s=0.01),
            sweep_interval_s=0.05,
            lease_s=LEASE_S,
        )

    relays = {"first": replica("first"), "second": replica("second")}
    tasks = {name: asyncio.create_task(relay.run()) for name, relay in relays.items()}
    try:
        confirmed = await move_all(service, order_ids, OrderStatus.CONFIRMED, [*relays.values()])

        async def all_answered() -> bool:
            return await repository.count_write_backs() == 0

        await eventually(all_answered, what="every confirmation to reach the channel")
        assert channel.calls_per_key(confirmed) == dict.fromkeys(confirmed, 1)
        holder = channel.sent[-1][0]

        # The holder stops (a deploy): it lets its lease go, and the other replica sends.
        # stop_tasks cancels again until it ends: pymongo may swallow a cancellation.
        assert not await stop_tasks([tasks[holder]], timeout_s=10)
        (standby,) = set(relays) - {holder}
        # Cancelling may cut a store call short, which the shared client takes for an outage
        # until its monitor looks again (a replica that dies takes its own client with it).
        client = OrderDocument.get_pymongo_collection().database.client

        async def store_answers() -> bool:
            return client.topology_description.has_writable_server()

        await eventually(store_answers, what="the store to answer the test's client again")
        cancelled = await move_all(service, order_ids, OrderStatus.CANCELLED, [*relays.values()])
        await eventually(all_answered, what="the standby to send every cancellation")
        assert channel.calls_per_key(cancelled) == dict.fromkeys(cancelled, 1)
        assert channel.senders(cancelled) == {standby}
        shown = await repository.get(order_ids[0])
        assert shown is not None
        assert shown.order.write_back is not None
        assert shown.order.write_back.state == "acknowledged"
    finally:
        assert not await stop_tasks(tasks.values(), timeout_s=10)


class FlakyChannel:
    """Blinkit's status API, out for the first ``outage`` calls (a 503), then answering; notes
    every call's idempotency key in the order the calls came."""

    def __init__(self, outage: int) -> None:
        self.outage = outage
        self.keys: list[str] = []
        self.client = httpx.AsyncClient(
            transport=httpx.MockTransport(self._answer), base_url="http://channels.test"
        )

    def _answer(self, request: httpx.Request) -> httpx.Response:
        self.keys.append(request.headers["X-Idempotency-Key"])
        if len(self.keys) <= self.outage:
            return httpx.Response(503, json={"error": {"message": "try again later"}})
        return httpx.Response(200, json={"order": {"status": "accepted"}})


def fast_way(
    repository: OrderRepository, query_side: QuerySide, channel: FlakyChannel
) -> tuple[OrderService, WriteBackRelay]:
    """The service handing its write-backs to the relay, as orders' app wires them."""
    service = OrderService(
        repository, query_side, on_write_back=lambda change: relay.confirm(change)
    )
    relay = WriteBackRelay(
        repository,
        service,
        # One try per send, no breaker in the way: the test decides when the channel is back.
        ChannelWriter(channel.client, attempts=1, failure_threshold=100),
        sweep_interval_s=3600,
        max_backoff_s=0,
    )
    return service, relay


async def ship(service: OrderService, order_id: str) -> Order:
    """The admin marks the order shipped, with its carrier and tracking number."""
    return await service.move_status(
        order_id,
        OrderStatus.SHIPPED,
        changed_by="u-1",
        note=None,
        shipment=Shipment(carrier="Delhivery", tracking_number="DL123"),
    )


async def test_a_move_is_sent_at_once_without_the_store_being_read_for_it(
    repository: OrderRepository, query_side: QuerySide
) -> None:
    channel = FlakyChannel(outage=0)
    service, relay = fast_way(repository, query_side, channel)
    await record(service, channel_order("WB-FAST", channel="blinkit"))
    order_id = order_id_for("blinkit", "WB-FAST")
    assert await relay.send_due() == 0  # the start's sweep: nothing was left waiting

    moved = await service.move_status(order_id, OrderStatus.CONFIRMED, changed_by="u-1", note=None)
    assert await relay.send_confirmed() == 1

    assert moved.write_back is not None
    assert channel.keys == [moved.write_back.idempotency_key]
    shown = await repository.get(order_id)
    assert shown is not None
    assert shown.order.write_back is not None
    assert shown.order.write_back.state == "acknowledged"
    assert await repository.count_write_backs() == 0


async def test_a_later_move_never_overtakes_an_earlier_one_its_channel_could_not_take_yet(
    repository: OrderRepository, query_side: QuerySide
) -> None:
    """The channel is out for the first send: that move waits in the store. The admin moves the
    order on meanwhile; that move is not sent the fast way ahead of the first, but by the sweep,
    after it."""
    channel = FlakyChannel(outage=1)
    service, relay = fast_way(repository, query_side, channel)
    await record(service, channel_order("WB-ORDER", channel="blinkit"))
    order_id = order_id_for("blinkit", "WB-ORDER")
    assert await relay.send_due() == 0

    confirmed = await service.move_status(
        order_id, OrderStatus.CONFIRMED, changed_by="u-1", note=None
    )
    assert await relay.send_confirmed() == 0  # the channel was out: postponed
    shipped = await ship(service, order_id)
    assert await relay.send_confirmed() == 0  # not handed over: the first still waits

    assert await relay.send_due() == 1  # the first, now that the channel answers
    assert await relay.send_due() == 1  # then the one behind it
    assert confirmed.write_back is not None
    assert shipped.write_back is not None
    first, second = confirmed.write_back.idempotency_key, shipped.write_back.idempotency_key
    assert channel.keys == [first, first, second]
    shown = await repository.get(order_id)
    assert shown is not None
    assert shown.order.write_back is not None
    assert shown.order.write_back.idempotency_key == second
    assert shown.order.write_back.state == "acknowledged"


async def test_a_move_that_lost_its_race_leaves_nothing_to_hold_up_the_orders_next_moves(
    repository: OrderRepository, query_side: QuerySide
) -> None:
    """Two admins move one order at once: both write-back requests are written before the order,
    and one move loses (the order moved on meanwhile). Its request goes with it, so the sweep
    sends the winner's move, and the next one, at once rather than after the loser's request had
    waited out ``abandoned_after_s``."""
    channel = FlakyChannel(outage=0)
    service = OrderService(repository, query_side)
    relay = WriteBackRelay(repository, service, ChannelWriter(channel.client))
    await record(service, channel_order("WB-RACE", channel="blinkit"))
    order_id = order_id_for("blinkit", "WB-RACE")
    found = await repository.get(order_id)
    assert found is not None
    winner = admin_move(found, OrderStatus.CONFIRMED, changed_by="u-1", note=None)
    loser = admin_move(found, OrderStatus.CONFIRMED, changed_by="u-2", note=None)
    assert await repository.apply(winner)
    assert not await repository.apply(loser)
    assert await repository.count_write_backs() == 1

    shipped = await ship(service, order_id)
    assert await relay.send_due() == 1
    assert await relay.send_due() == 1
    assert winner.write_back is not None
    assert shipped.write_back is not None
    assert channel.keys == [winner.write_back.key, shipped.write_back.idempotency_key]
