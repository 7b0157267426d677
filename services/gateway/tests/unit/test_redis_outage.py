"""When Redis does not answer, the edge lets traffic through and never serves a stale read."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

import pytest
from redis.asyncio import Redis
from starlette.requests import Request

from gateway.cache import ResponseCache
from gateway.deps import admit
from gateway.ratelimit import RateLimiter
from gateway.redis_outage import EdgePipeline, Reply, one_round_trip
from gateway.routes import Access
from orderhub_common.revocation import AccessRevocations
from orderhub_common.security import Principal, Role

from .fakes import FlakyRedis

pytestmark = pytest.mark.unit

VIEWER = Principal(user_id="u1", role=Role.VIEWER, jti="j1", expires_at=datetime.now(UTC))


def _cache(redis: FlakyRedis) -> ResponseCache:
    return ResponseCache(
        redis,  # type: ignore[arg-type]
        detail_fresh_s=30,
        list_fresh_s=2,
        stale_s=30,
        fill_timeout_s=6,
    )


def _edge(redis: FlakyRedis) -> Any:
    return SimpleNamespace(
        redis=redis,
        settings=SimpleNamespace(rate_limit_per_ip_per_min=1, rate_limit_per_user_per_min=1),
        tokens=SimpleNamespace(known=lambda token: VIEWER),
        limiter=RateLimiter(redis),  # type: ignore[arg-type]
        cache=_cache(redis),
        revocations=AccessRevocations(redis),  # type: ignore[arg-type]
    )


def _request() -> Request:
    return Request({"type": "http", "headers": [], "client": ("10.0.0.1", 1234), "state": {}})


async def test_signed_in_calls_go_through_uncounted_and_uncached_while_redis_is_down() -> None:
    redis = FlakyRedis()
    edge = _edge(redis)
    redis.down = True

    admitted = [
        await admit(
            _request(),
            edge,
            Access.SIGNED_IN,
            SimpleNamespace(credentials="a token"),  # type: ignore[arg-type]
            cache_slot=lambda principal: edge.cache.slot(
                principal.role, "/orders", "", reader=principal.user_id
            ),
        )
        for _ in range(3)  # a limit of 1 per minute would refuse the second
    ]

    assert [a.principal for a in admitted] == [VIEWER] * 3
    assert [a.lookup for a in admitted] == [None] * 3


async def test_a_change_recorded_during_an_outage_keeps_reads_off_the_cache_until_recorded() -> (
    None
):
    redis = FlakyRedis()
    cache = _cache(redis)
    slot = cache.slot("admin", "/orders/o1", "", reader="u1")
    before = await cache.lookup(slot)

    redis.down = True
    await cache.record_write("o1", "u1")  # a PATCH succeeded, but the bump could not be written
    redis.down = False

    assert before is not None
    assert await cache.is_usable()  # the bump is written now, before any read uses the cache
    after = await cache.lookup(slot)
    assert after is not None
    assert after.version != before.version


async def test_reads_stay_off_the_cache_while_a_change_cannot_be_recorded() -> None:
    redis = FlakyRedis()
    cache = _cache(redis)
    redis.down = True
    await cache.orders_changed({"o1"})

    assert not await cache.is_usable()
    assert await cache.lookup(cache.slot("admin", "/orders/o1", "", reader="u1")) is None


async def test_each_queued_check_reads_its_own_replies_whatever_was_queued_around_it() -> None:
    redis = FlakyRedis()
    redis.values.update({"a": "1", "b": "2"})

    def queue(pipe: EdgePipeline) -> tuple[Reply, Reply, Reply]:
        first = pipe.queue(lambda raw: raw.get("a"))
        both = pipe.queue(lambda raw: (raw.get("b"), raw.exists("a")))
        last = pipe.queue(lambda raw: raw.mget(["b", "a"]))
        return first, both, last

    first, both, last = await one_round_trip(cast(Redis, redis), queue, [])
    assert first.value == "1"
    assert both.values == ["2", 1]
    assert last.value == ["2", "1"]
