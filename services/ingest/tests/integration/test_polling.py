from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import cast

import httpx
import pytest
from prometheus_client import REGISTRY

from devstack.pytest_plugin import InfraUrls, eventually
from ingest.cursor import FeedCursor
from ingest.events import IngestedPublisher
from orderhub_common.context import CORRELATION_ID_HEADER
from orderhub_common.events import Channel, ChannelOrder, OrderIngested, OrderStatus
from orderhub_common.kafka import topics_from

from .conftest import PollerKit, create_orders, ingest_settings, read_topic

pytestmark = pytest.mark.integration


async def published(kit: PollerKit) -> list[OrderIngested]:
    """Every event published so far, on either lane: the live one first, then the history one
    (an order placed more than ``INGEST_LIVE_WINDOW_S`` ago, such as a backfill's, goes there)."""
    topics = topics_from(kit.settings)
    records = [
        *await read_topic(kit.settings, topics.ingested),
        *await read_topic(kit.settings, topics.ingested_history),
    ]
    events = []
    for record in records:
        raw = json.loads(record.value)
        assert raw["eventType"] == "order.ingested"
        assert raw["schemaVersion"] == 1
        assert {"eventId", "occurredAt", "correlationId"} <= set(raw)
        assert {"externalId", "placedAt", "updatedAt"} <= set(raw["order"]), "camelCase JSON"
        event = OrderIngested.model_validate_json(record.value)
        assert record.key == f"{event.order.channel}:{event.order.external_id}".encode()
        headers = dict(record.headers)
        assert headers[CORRELATION_ID_HEADER].decode() == event.correlation_id
        events.append(event)
    return events


async def poll(kit: PollerKit, channel: Channel, owner: str = "replica-a") -> int:
    """One poll by the lease holder, as the worker loop does it."""
    poller = kit.poller(channel, owner)
    assert await poller.lease.take_or_renew()
    return await poller.poll()


async def test_a_poll_publishes_every_order_once_keyed_by_channel_and_external_id(
    kit: PollerKit, channels: httpx.AsyncClient
) -> None:
    created = {channel: await create_orders(channels, channel, 6) for channel in Channel}
    for channel in Channel:
        assert await poll(kit, channel) == 6, "POLL_PAGE_SIZE 4: two pages, one poll"

    events = await published(kit)
    keys = Counter(f"{e.order.channel}:{e.order.external_id}" for e in events)
    expected = {f"{channel}:{i}" for channel, ids in created.items() for i in ids}
    assert set(keys) == expected
    assert set(keys.values()) == {1}
    assert {e.order.status for e in events} == {OrderStatus.PLACED}

    for channel in Channel:
        assert await poll(kit, channel) == 0, "nothing new, nothing republished"
    assert len(await published(kit)) == len(expected)


async def test_a_status_moved_at_the_channel_is_published_again(
    kit: PollerKit, channels: httpx.AsyncClient
) -> None:
    [order_id, _] = await create_orders(channels, Channel.AMAZON, 2)
    await poll(kit, Channel.AMAZON)
    move = {"status": "DELIVERED"}
    await channels.post(f"/_control/amazon/orders/{order_id}/status", json=move)

    assert await poll(kit, Channel.AMAZON) == 1
    latest = (await published(kit))[-1].order
    assert (latest.external_id, latest.status) == (order_id, OrderStatus.DELIVERED)


async def test_the_cursor_survives_a_restart(kit: PollerKit, channels: httpx.AsyncClient) -> None:
    await create_orders(channels, Channel.BLINKIT, 9)
    first = kit.poller(Channel.BLINKIT, owner="before-restart")
    assert await first.lease.take_or_renew()
    await first.poll()
    await first.lease.release()  # a graceful stop; a crash would wait for the lease TTL

    later = await create_orders(channels, Channel.BLINKIT, 2)
    restarted = kit.poller(Channel.BLINKIT, owner="after-restart")
    assert await restarted.lease.take_or_renew()
    assert await restarted.poll() == 2

    events = await published(kit)
    assert len(events) == 11
    assert [e.order.external_id for e in events[-2:]] == later


async def test_a_poller_that_lost_its_lease_does_not_move_the_cursor(
    kit: PollerKit, channels: httpx.AsyncClient
) -> None:
    await create_orders(channels, Channel.WEBSITE, 3)
    holder = kit.poller(Channel.WEBSITE, owner="holder")
    intruder = kit.poller(Channel.WEBSITE, owner="intruder")
    assert await holder.lease.take_or_renew()
    assert not await intruder.lease.take_or_renew()

    await intruder.poll()  # as if its lease had expired mid-poll
    assert (await kit.repository.load_cursor(Channel.WEBSITE)).since is None
    await holder.poll()
    assert (await kit.repository.load_cursor(Channel.WEBSITE)).since is not None


async def test_with_two_replicas_only_one_polls_and_the_other_takes_over(
    kit: PollerKit, channels: httpx.AsyncClient
) -> None:
    first = kit.poller(Channel.BLINKIT, owner="replica-1")
    second = kit.poller(Channel.BLINKIT, owner="replica-2")
    first_task = asyncio.create_task(first.run())

    async def first_holds_the_lease() -> bool:
        return await kit.repository.redis.get(first.lease.key) == "replica-1"

    await eventually(first_holds_the_lease, what="the first replica to take the lease")
    second_task = asyncio.create_task(second.run())
    try:
        created = await create_orders(channels, Channel.BLINKIT, 5)
        await wait_for_published(kit, len(created))
        holder = await kit.repository.redis.get(first.lease.key)
        assert holder == "replica-1"

        first_task.cancel()  # a graceful stop releases the lease
        with contextlib.suppress(asyncio.CancelledError):
            await first_task
        created += await create_orders(channels, Channel.BLINKIT, 3)
        await wait_for_published(kit, len(created))
        assert await kit.repository.redis.get(second.lease.key) == "replica-2"
    finally:
        second_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await second_task

    keys = Counter(e.order.external_id for e in await published(kit))
    assert set(keys) == set(created)
    assert set(keys.values()) == {1}, "never polled by both replicas"


async def wait_for_published(kit: PollerKit, count: int, timeout_s: float = 15) -> None:
    async def enough_published() -> bool:
        return len(await published(kit)) >= count

    await eventually(enough_published, timeout_s=timeout_s, what=f"{count} orders published")


async def test_a_crash_before_the_cursor_is_saved_re_reads_only_that_page(
    kit: PollerKit, channels: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = await create_orders(channels, Channel.WEBSITE, 8)  # two pages of four
    save_cursor = kit.repository.save_cursor
    saves = 0

    async def crash_on_second_save(*args: object, **kwargs: object) -> bool:
        nonlocal saves
        saves += 1
        if saves == 2:
            raise ConnectionError("the process died here")
        return await save_cursor(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(kit.repository, "save_cursor", crash_on_second_save)
    with pytest.raises(ConnectionError):
        await poll(kit, Channel.WEBSITE)
    monkeypatch.setattr(kit.repository, "save_cursor", save_cursor)

    assert await poll(kit, Channel.WEBSITE) == 4, "only the unsaved page is read again"
    keys = Counter(e.order.external_id for e in await published(kit))
    assert set(keys) == set(created)
    assert sum(keys.values()) == 12


async def test_a_rejected_page_token_restarts_the_pass_instead_of_wedging_the_poller(
    kit: PollerKit, channels: httpx.AsyncClient
) -> None:
    created = await create_orders(channels, Channel.BLINKIT, 3)
    poller = kit.poller(Channel.BLINKIT)
    assert await poller.lease.take_or_renew()
    await kit.repository.save_cursor(
        Channel.BLINKIT, FeedCursor(page_token="expired"), poller.lease
    )

    assert await poller.poll() == 0, "the channel rejects the token"
    assert await poller.poll() == 3
    assert {e.order.external_id for e in await published(kit)} == set(created)


async def test_once_a_burst_second_is_over_polls_stop_reading_it_again(
    infra: InfraUrls, unique_name: str, kit: PollerKit, channels: httpx.AsyncClient
) -> None:
    kit.settings = ingest_settings(infra, unique_name, CURSOR_SETTLE_S=0)
    await create_orders(channels, Channel.WEBSITE, 10)
    assert await poll(kit, Channel.WEBSITE) == 10
    await asyncio.sleep(1.1)  # the feed speaks whole seconds: let the burst's second end

    def polled() -> float:
        return (
            REGISTRY.get_sample_value("ingest_orders_polled_total", {"channel": "website"}) or 0.0
        )

    assert await poll(kit, Channel.WEBSITE) == 0
    before = polled()
    assert await poll(kit, Channel.WEBSITE) == 0
    assert polled() == before, "the burst is not read again"
    assert (await kit.repository.load_cursor(Channel.WEBSITE)).published_at_since == {}


@pytest.mark.parametrize("channel", list(Channel))
async def test_a_new_order_is_published_ahead_of_the_feeds_backlog_and_only_once(
    infra: InfraUrls,
    unique_name: str,
    kit: PollerKit,
    channels: httpx.AsyncClient,
    channel: Channel,
) -> None:
    kit.settings = ingest_settings(
        infra, unique_name, INGEST_NEW_ORDERS_EVERY_S=0.001, INGEST_NEW_ORDERS_BEHIND_S=0
    )
    weeks_ago = datetime.now(UTC) - timedelta(weeks=2)
    history = await channels.post(
        f"/_control/{channel}/orders",
        json={"count": 24, "placedFrom": weeks_ago.isoformat(), "placedTo": weeks_ago.isoformat()},
    )
    [new] = await create_orders(channels, channel, 1)
    poller = kit.poller(channel)
    batches: list[list[str]] = []
    publish = poller.publisher.publish

    async def recorded(orders: Sequence[ChannelOrder]) -> None:
        await publish(orders)
        batches.append([order.external_id for order in orders])

    poller.publisher = cast(IngestedPublisher, SimpleNamespace(publish=recorded))
    assert await poller.lease.take_or_renew()

    assert await poller.poll() == 25, "POLL_PAGE_SIZE 4: the backlog takes seven pages"
    published = [external_id for batch in batches for external_id in batch]
    assert sorted(published) == sorted([*history.json()["created"], new]), "each once"
    assert published.index(new) < 8, "found after the first page, not after the backlog"
    live = await read_topic(kit.settings, topics_from(kit.settings).ingested)
    assert [OrderIngested.model_validate_json(r.value).order.external_id for r in live] == [new]
    statuses = await kit.repository.statuses(frozenset())
    [status] = [s for s in statuses if s.channel == channel]
    assert status.orders_ingested == 25, "the Channels page counts the new order too"
