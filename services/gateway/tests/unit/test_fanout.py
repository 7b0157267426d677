import asyncio

import pytest

from gateway.fanout import EventHub, OrderEventMessage

pytestmark = pytest.mark.unit


def _message(n: int) -> OrderEventMessage:
    return OrderEventMessage(event_id=f"e{n}", event_type="order.created", data="{}")


async def _drain(subscription, count: int) -> list[str]:  # type: ignore[no-untyped-def]
    received = []
    async for message in subscription:
        received.append(message.event_id)
        if len(received) == count:
            break
    return received


async def test_every_connected_client_gets_every_event_in_order() -> None:
    hub = EventHub(queue_size=10)
    async with hub.subscribe() as first, hub.subscribe() as second:
        for n in range(3):
            hub.publish(_message(n))

        assert await _drain(first, 3) == ["e0", "e1", "e2"]
        assert await _drain(second, 3) == ["e0", "e1", "e2"]
    assert hub.client_count == 0


async def test_a_client_that_falls_behind_is_dropped_and_the_others_go_on() -> None:
    hub = EventHub(queue_size=2)
    async with hub.subscribe() as slow, hub.subscribe() as fast:
        hub.publish(_message(0))
        hub.publish(_message(1))
        assert await _drain(fast, 2) == ["e0", "e1"]

        hub.publish(_message(2))  # slow's queue is full: it is cut off

        assert [m.event_id async for m in slow] == []
        assert hub.client_count == 1
        assert await asyncio.wait_for(_drain(fast, 1), 1) == ["e2"]
