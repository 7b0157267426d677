"""Fixed-window rate limits in Redis, shared by every gateway replica.

Windows start on the minute for every key. One Lua script counts a hit and sets its counter's
expiry in one atomic step, so concurrent requests are counted exactly and no counter is ever left
without an expiry.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from redis.asyncio import Redis

from gateway.redis_state import REDIS_FAILURES, RedisOutage

WINDOW_S = 60
# Where the edge keeps the tightest decision of a request, for the response headers.
RATE_LIMIT_STATE = "rate_limit"

_COUNT_HIT = """
local hits = redis.call('INCR', KEYS[1])
if hits == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return hits
"""


@dataclass(frozen=True)
class RateLimitDecision:
    limit: int
    remaining: int
    reset_s: int
    """Seconds until the window (and so the count) starts over."""

    @property
    def allowed(self) -> bool:
        return self.remaining >= 0

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(0, self.remaining)),
            "X-RateLimit-Reset": str(self.reset_s),
        }


class RateLimiter:
    def __init__(self, redis: Redis, *, clock: Callable[[], float] = time.time) -> None:
        self._count_hit = redis.register_script(_COUNT_HIT)
        self._clock = clock
        self._outage = RedisOutage("rate limiting")

    async def hit(self, scope: str, identity: str, limit: int) -> RateLimitDecision | None:
        """Counts one request of ``identity``; None when Redis is down (the request is let in)."""
        now = self._clock()
        window = int(now // WINDOW_S)
        key = f"gw:ratelimit:{scope}:{identity}:{window}"
        try:
            hits = await self._count_hit(keys=[key], args=[WINDOW_S * 1000])
        except REDIS_FAILURES as exc:
            self._outage.failed(exc)
            return None
        self._outage.answered()
        # Every window starts on the minute, for every key: the count starts over then.
        reset_s = max(1, math.ceil((window + 1) * WINDOW_S - now))
        return RateLimitDecision(limit=limit, remaining=limit - int(hits), reset_s=reset_s)
