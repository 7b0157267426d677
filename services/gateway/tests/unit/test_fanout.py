"""The hub's ring: coalesced batches per client, resume by position, a reset for the lost."""

import asyncio

import pytest

from gateway.fanout import MAX_CHANGES_PER_MESSAGE, EventHub
from gateway.stream_events import OrderChange

pytestmark = pytest.mark.unit


def _changes(*order_ids: str) -> list[OrderChange]:
    return [
        OrderChange(order_id=order_id, kind="changed", event_type="order.status_changed")
        for order_id in order_ids
    ]


def _ids(changes: list[OrderChange]) -> list[str]:
    return [change.order_id for change in changes]


async def test_every_client_gets_every_change_since_its_last_message_in_one_batch() -> None:
    hub = EventHub(replay_size=100)
    async with hub.subscribe() as first, hub.subscribe() as second:
        for n in range(50):
            hub.publish(_changes(f"o{n}"))

        first_batch = await first.next_batch(1)
        second_batch = await second.next_batch(1)

    assert _ids(first_batch.changes) == [f"o{n}" for n in range(50)]
    assert second_batch == first_batch
    assert hub.client_count == 0


async def test_a_client_waits_for_the_next_change_and_then_gets_only_what_is_new() -> None:
    hub = EventHub(replay_size=100)
    hub.publish(_changes("before"))
    async with hub.subscribe() as client:
        waiting = asyncio.create_task(client.next_batch(1))
        await asyncio.sleep(0.01)
        assert not waiting.done()
        hub.publish(_changes("after"))

        assert _ids((await waiting).changes) == ["after"]
        with pytest.raises(TimeoutError):
            await client.next_batch(0.01)


async def test_a_long_backlog_goes_out_in_bounded_messages() -> None:
    hub = EventHub(replay_size=10 * MAX_CHANGES_PER_MESSAGE)
    async with hub.subscribe() as client:
        hub.publish(_changes(*(f"o{n}" for n in range(MAX_CHANGES_PER_MESSAGE + 5))))

        first = await client.next_batch(1)
        rest = await client.next_batch(1)

    assert len(first.changes) == MAX_CHANGES_PER_MESSAGE
    assert _ids(rest.changes) == [f"o{n}" for n in range(MAX_CHANGES_PER_MESSAGE, 1005)]


async def test_a_client_that_fell_out_of_the_ring_is_reset_once_then_goes_on() -> None:
    hub = EventHub(replay_size=3)
    async with hub.subscribe() as slow, hub.subscribe() as fast:
        hub.publish(_changes("o1", "o2"))
        assert _ids((await fast.next_batch(1)).changes) == ["o1", "o2"]
        hub.publish(_changes("o3", "o4"))  # o1 leaves the ring: slow never saw it

        reset = await slow.next_batch(1)
        hub.publish(_changes("o5"))
        after = await slow.next_batch(1)

        assert reset.reset
        assert reset.changes == []
        assert _ids(after.changes) == ["o5"]  # from the present on, still connected
        assert _ids((await fast.next_batch(1)).changes) == ["o3", "o4", "o5"]
        assert hub.client_count == 2


async def test_a_reconnect_resumes_after_its_last_event_id_while_the_ring_holds_it() -> None:
    hub = EventHub(replay_size=5)
    async with hub.subscribe() as client:
        hub.publish(_changes("o1"))
        last_seen = (await client.next_batch(1)).position
    hub.publish(_changes("o2", "o3"))  # while disconnected

    async with hub.subscribe(last_seen) as again:
        missed = await again.next_batch(1)
    hub.publish(_changes("o4", "o5", "o6", "o7"))  # o2 leaves the ring
    async with hub.subscribe(last_seen) as too_late:
        pass

    assert again.resumed
    assert _ids(missed.changes) == ["o2", "o3"]
    assert not too_late.resumed


@pytest.mark.parametrize(
    "last_event_id", ["", "garbage", "other-1", "e1-x", "e1-99", "e1--1", "e1-0 extra"]
)
async def test_an_id_this_ring_cannot_resume_starts_from_now(last_event_id: str) -> None:
    hub = EventHub(replay_size=5, epoch="e1")
    hub.publish(_changes("o1"))

    async with hub.subscribe(last_event_id) as client:
        hub.publish(_changes("o2"))
        batch = await client.next_batch(1)

    assert not client.resumed
    assert _ids(batch.changes) == ["o2"]
