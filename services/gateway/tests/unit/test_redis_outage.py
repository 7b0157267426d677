"""When Redis does not answer, the edge lets traffic through and never serves a stale read."""

from __future__ import annotations

import pytest

from gateway.cache import CachedResponse, ResponseCache
from gateway.ratelimit import RateLimiter

from .fakes import FlakyRedis

pytestmark = pytest.mark.unit


def _cache(redis: FlakyRedis) -> ResponseCache:
    return ResponseCache(redis, ttl_s=30)  # type: ignore[arg-type]


async def test_rate_limiting_fails_open_while_redis_is_down() -> None:
    redis = FlakyRedis()
    limiter = RateLimiter(redis)  # type: ignore[arg-type]
    redis.down = True

    assert await limiter.hit("ip", "10.0.0.1", limit=1) is None

    redis.down = False
    first = await limiter.hit("ip", "10.0.0.1", limit=1)
    second = await limiter.hit("ip", "10.0.0.1", limit=1)
    assert first is not None
    assert first.allowed
    assert second is not None
    assert not second.allowed


async def test_reads_bypass_the_cache_while_redis_is_down() -> None:
    redis = FlakyRedis()
    cache = _cache(redis)
    redis.down = True

    assert await cache.key_for("admin", "/orders", "") is None
    await cache.put("any", CachedResponse(200, "application/json", "{}"))  # no error


async def test_a_change_recorded_during_an_outage_still_invalidates_older_entries() -> None:
    redis = FlakyRedis()
    cache = _cache(redis)
    key = await cache.key_for("admin", "/orders/o1", "")
    assert key is not None
    await cache.put(key, CachedResponse(200, "application/json", '{"status": "PLACED"}'))

    redis.down = True
    await cache.invalidate_orders()  # a PATCH succeeded, but the bump could not be written
    redis.down = False

    assert await cache.key_for("admin", "/orders/o1", "") != key
