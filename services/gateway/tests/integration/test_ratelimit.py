"""The moving-window limits against a real Redis, with the clock in the test's hands."""

from __future__ import annotations

import uuid

import pytest
from limits import RateLimitItemPerMinute
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.asyncio import Redis

from devstack.pytest_plugin import InfraUrls
from gateway.main import create_app
from gateway.ratelimit import KEY_PREFIX, RateLimitDecision, RateLimiter
from gateway.redis_outage import one_round_trip
from gateway.settings import GatewaySettings
from orderhub_common.testing import assert_limits_each_address

from .conftest import GATEWAY_REDIS_DB, Clock

pytestmark = pytest.mark.integration


async def _hit(redis: Redis, limiter: RateLimiter, identity: str, limit: int) -> RateLimitDecision:
    def queue(pipe):  # type: ignore[no-untyped-def]
        return limiter.queue_hit(pipe, "ip", identity, limit)

    hit = await one_round_trip(redis, queue, limiter.scripts)
    return hit.decide()


async def test_a_burst_on_each_side_of_a_minute_never_gets_twice_the_limit(redis: Redis) -> None:
    clock = Clock(1_800_000_059.0)  # one second before a minute starts
    limiter = RateLimiter(redis, clock=clock)
    caller = uuid.uuid4().hex

    before = [await _hit(redis, limiter, caller, 5) for _ in range(5)]
    clock.now += 2  # the next minute, one second in
    after_the_edge = [await _hit(redis, limiter, caller, 5) for _ in range(5)]
    clock.now += 58.5  # the first burst is more than a minute old now
    a_minute_later = await _hit(redis, limiter, caller, 5)

    assert [d.allowed for d in before] == [True] * 5
    assert [d.allowed for d in after_the_edge] == [False] * 5
    assert after_the_edge[0].remaining == 0
    assert after_the_edge[0].reset_s == 58  # when the oldest of the burst leaves the window
    assert a_minute_later.allowed


async def test_decisions_say_what_is_left_and_callers_are_counted_apart(redis: Redis) -> None:
    limiter = RateLimiter(redis)
    one, other = uuid.uuid4().hex, uuid.uuid4().hex

    decisions = [await _hit(redis, limiter, one, 3) for _ in range(4)]
    separate = await _hit(redis, limiter, other, 3)

    assert [(d.allowed, d.remaining) for d in decisions] == [
        (True, 2),
        (True, 1),
        (True, 0),
        (False, 0),
    ]
    assert decisions[0].headers() == {
        "X-RateLimit-Limit": "3",
        "X-RateLimit-Remaining": "2",
        "X-RateLimit-Reset": "60",
    }
    assert separate.allowed


async def test_the_counts_are_the_limits_librarys_own(redis: Redis) -> None:
    """The pipeline runs limits' moving-window scripts on its keys: its strategy agrees."""
    limiter = RateLimiter(redis)
    caller = uuid.uuid4().hex
    strategy = MovingWindowRateLimiter(
        RedisStorage(
            "async+redis://",
            implementation="redispy",
            connection_pool=redis.connection_pool,  # type: ignore[arg-type]
            key_prefix=KEY_PREFIX,
        )
    )
    item = RateLimitItemPerMinute(10)

    for _ in range(3):
        await _hit(redis, limiter, caller, 10)
    stats = await strategy.get_window_stats(item, "ip", caller)
    await strategy.hit(item, "ip", caller)
    next_decision = await _hit(redis, limiter, caller, 10)

    assert stats.remaining == 7
    assert next_decision.remaining == 5


async def test_outside_the_api_the_gateway_limits_each_address_too(infra: InfraUrls) -> None:
    # The SPA, the docs and the API document: the edge's checks cover /api only.
    settings = GatewaySettings(
        environment="test",
        redis_url=infra.redis_db(GATEWAY_REDIS_DB),
        rate_limit_per_ip_per_min=3,
        **infra.kafka_settings(),
    )
    await assert_limits_each_address(create_app(settings), 3)
