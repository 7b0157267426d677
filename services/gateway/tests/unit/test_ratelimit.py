import pytest

from gateway.ratelimit import RateLimiter

from .fakes import FlakyRedis

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_the_limit_admits_exactly_limit_hits_per_window_and_says_when_it_resets() -> None:
    clock = Clock(6_000_050.2)  # 50.2 s into a minute
    limiter = RateLimiter(FlakyRedis(), clock=clock)  # type: ignore[arg-type]

    decisions = [await limiter.hit("user", "u1", limit=3) for _ in range(4)]

    assert [d.allowed for d in decisions if d is not None] == [True, True, True, False]
    assert decisions[0] is not None
    assert decisions[0].headers() == {
        "X-RateLimit-Limit": "3",
        "X-RateLimit-Remaining": "2",
        "X-RateLimit-Reset": "10",
    }


async def test_a_new_minute_starts_a_new_count_for_every_caller_separately() -> None:
    clock = Clock(6_000_059.5)
    limiter = RateLimiter(FlakyRedis(), clock=clock)  # type: ignore[arg-type]
    await limiter.hit("ip", "10.0.0.1", limit=1)

    refused = await limiter.hit("ip", "10.0.0.1", limit=1)
    other = await limiter.hit("ip", "10.0.0.2", limit=1)
    clock.now += 1
    next_minute = await limiter.hit("ip", "10.0.0.1", limit=1)

    assert refused is not None
    assert not refused.allowed
    assert refused.reset_s == 1
    assert other is not None
    assert other.allowed
    assert next_minute is not None
    assert next_minute.allowed
    assert next_minute.reset_s == 60
