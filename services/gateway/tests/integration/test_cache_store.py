"""The response cache's lookup script against a real Redis: which entry a caller may be served,
and which replica asks the service when none may."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace

import httpx
import pytest
from redis.asyncio import Redis

from gateway.cache import CachedResponse, CacheSlot, ReadThrough, ResponseCache

from .conftest import Clock

pytestmark = pytest.mark.integration

ANSWER = CachedResponse(200, "application/json", '{"note": "naïve"}\n{"lines": 2}')


def replica(redis: Redis, clock: Clock | None = None) -> ResponseCache:
    """One gateway replica's cache (each has its own fill lock identity)."""
    return ResponseCache(
        redis,
        detail_fresh_s=30,
        list_fresh_s=2,
        stale_s=30,
        fill_timeout_s=6,
        **({"clock": clock} if clock else {}),
    )


def a_list(cache: ResponseCache, query: str = "", reader: str = "u1") -> CacheSlot:
    """A list slot no other test uses (unless ``query`` is given again)."""
    return cache.slot("admin", "/orders", query or f"search={uuid.uuid4().hex}", reader=reader)


async def test_an_entry_is_fresh_until_its_time_then_stale_and_never_served_after_a_change(
    redis: Redis,
) -> None:
    clock = Clock()
    cache = replica(redis, clock)
    order_id = f"o-{uuid.uuid4().hex[:8]}"
    slot = cache.slot("viewer", f"/orders/{order_id}", "", reader="u1")
    first = await cache.lookup(slot)
    assert first is not None
    assert (first.response, first.may_fill) == (None, True)
    await cache.fill(slot, first, ANSWER, release_lock=True)

    fresh = await cache.lookup(slot)
    clock.now += 31
    stale = await cache.lookup(slot)
    await cache.orders_changed({order_id})
    changed = await cache.lookup(slot)

    assert fresh is not None
    assert stale is not None
    assert changed is not None
    assert (fresh.response, fresh.fresh) == (ANSWER, True)
    assert (stale.response, stale.fresh) == (ANSWER, False)
    assert changed.response is None
    assert changed.version != first.version


async def test_a_writers_lists_miss_entries_from_before_the_write_while_others_still_hit(
    redis: Redis,
) -> None:
    cache = replica(redis)
    writer_id, query = uuid.uuid4().hex, f"search={uuid.uuid4().hex}"
    other, writer = a_list(cache, query, uuid.uuid4().hex), a_list(cache, query, writer_id)
    before = CachedResponse(200, "application/json", '{"orders": ["before"]}')
    first = await cache.lookup(other)
    assert first is not None
    await cache.fill(other, first, before, release_lock=True)

    await cache.record_write("o1", writer_id)
    seen_by_other, seen_by_writer = await cache.lookup(other), await cache.lookup(writer)

    assert seen_by_other is not None
    assert (seen_by_other.response, seen_by_other.may_fill) == (before, False)
    assert seen_by_writer is not None
    assert seen_by_writer.response is None
    # The writer's own fill keys apart from fills that may have started before the write.
    assert seen_by_writer.fill != first.fill
    assert seen_by_writer.may_fill
    after = CachedResponse(200, "application/json", '{"orders": ["after"]}')
    await cache.fill(writer, seen_by_writer, after, release_lock=True)
    again = await cache.lookup(writer)
    assert again is not None
    assert (again.response, again.fresh) == (after, True)


async def test_two_replicas_asked_at_once_for_a_missing_list_ask_the_service_once(
    redis: Redis,
) -> None:
    one, two = replica(redis), replica(redis)
    slot = a_list(one)
    asked = 0

    async def fetch() -> httpx.Response:
        nonlocal asked
        asked += 1
        await asyncio.sleep(0.2)
        return httpx.Response(200, json={"orders": []})

    lookups = [await cache.lookup(slot) for cache in (one, two)]
    assert [lookup.may_fill for lookup in lookups if lookup] == [True, False]
    answers = await asyncio.gather(
        *(
            ReadThrough(cache, fill_wait_s=2).fill(slot, lookup, fetch)
            for cache, lookup in zip((one, two), lookups, strict=True)
            if lookup
        )
    )

    assert asked == 1
    assert [how for _, how in answers] == ["MISS", "MISS"]
    assert answers[1][0] == CachedResponse(200, "application/json", '{"orders":[]}')


async def test_a_replica_waiting_on_another_asks_the_service_as_soon_as_that_fill_stores_nothing(
    redis: Redis,
) -> None:
    one, two = replica(redis), replica(redis)
    slot = a_list(one)
    first, second = await one.lookup(slot), await two.lookup(slot)
    assert first is not None
    assert second is not None
    assert (first.may_fill, second.may_fill) == (True, False)

    async def fetch() -> httpx.Response:
        return httpx.Response(200, json={"orders": ["from two"]})

    waiting = asyncio.create_task(ReadThrough(two, fill_wait_s=30).fill(slot, second, fetch))
    await asyncio.sleep(0.2)
    assert not waiting.done()  # replica one holds the lock
    # Replica one's answer is not kept (an error), and its lock goes with it.
    await one.release_fill_lock(slot, first)
    answer, how = await asyncio.wait_for(waiting, timeout=2)

    assert (answer.status_code, how) == (200, "MISS")
    stored = await one.lookup(slot)
    assert stored is not None
    assert stored.response is not None
    assert stored.response.body == '{"orders":["from two"]}'


async def test_a_caller_who_revalidates_fills_over_a_fresh_entry(redis: Redis) -> None:
    cache = replica(redis)
    slot = a_list(cache)
    first = await cache.lookup(slot)
    assert first is not None
    await cache.fill(slot, first, ANSWER, release_lock=True)
    revalidating = replace(slot, revalidate=True)

    plain, asking = await cache.lookup(slot), await cache.lookup(revalidating)

    assert plain is not None
    assert asking is not None
    assert (plain.fresh, plain.may_fill) == (True, False)
    assert (asking.fresh, asking.may_fill) == (True, True)
