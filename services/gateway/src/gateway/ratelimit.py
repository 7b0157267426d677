"""Moving-window rate limits in Redis (the ``limits`` library), shared by every gateway replica.

A limit of N per minute admits a request only if fewer than N were admitted in the 60 seconds
before it, at any moment: unlike fixed windows, a burst at the end of one minute and another at
the start of the next never add up to twice the limit.

The counting is the ``limits`` library's: its moving-window Redis scripts, keys and storage
(``limits.aio.storage.RedisStorage`` on redis-py). Its strategy object sends each script in a
round trip of its own, two per limit (count, then read the window for the headers); the edge
instead queues them in the request's one pipeline (``EdgePipeline``), next to the other limit and
the cache lookup. ``tests/integration/test_ratelimit.py`` checks that what is counted here is what
``limits.aio.strategies.MovingWindowRateLimiter`` reads from the same keys.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import RedisStorage
from limits.aio.storage.redis.redispy import RedispyBridge
from redis.asyncio import Redis

from gateway.redis_outage import EdgePipeline, RedisOutage, Reply

KEY_PREFIX = "gw:ratelimit"
# The request-state attribute where the edge keeps a request's tightest decision, for the headers.
RATE_LIMIT_DECISION = "rate_limit_decision"
_TIMESTAMP_ROUNDING_S = 0.001


@dataclass(frozen=True)
class RateLimitDecision:
    limit: int
    remaining: int
    reset_s: int
    """Seconds until the oldest counted request leaves the window (one more is admitted then)."""
    allowed: bool

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(0, self.remaining)),
            "X-RateLimit-Reset": str(self.reset_s),
        }


@dataclass(frozen=True)
class QueuedHit:
    """One limit's two commands in a pipeline; ``decide`` reads their replies once it was sent."""

    item: RateLimitItem
    at: float
    acquired: Reply | None
    """None for a peek: the request is not counted, only whether one more would be admitted."""
    window: Reply

    def decide(self) -> RateLimitDecision:
        window = self.window.value
        # The window script answers [oldest admitted timestamp, admitted count], or nothing.
        oldest, count = (float(window[0]), int(window[1])) if window else (self.at, 0)
        # A peek admits what a count would: one more fits in the window.
        allowed = count < self.item.amount if self.acquired is None else bool(self.acquired.value)
        expiry = self.item.get_expiry()
        # Redis keeps the timestamps to 14 significant digits (Lua's tostring): 0.1 ms or so.
        leaves_in_s = oldest + expiry - self.at - _TIMESTAMP_ROUNDING_S
        return RateLimitDecision(
            limit=self.item.amount,
            remaining=self.item.amount - count,
            reset_s=max(1, math.ceil(leaves_in_s)),
            allowed=allowed,
        )


class RateLimiter:
    def __init__(self, redis: Redis, *, clock: Callable[[], float] = time.time) -> None:
        storage = RedisStorage(
            "async+redis://",
            implementation="redispy",
            connection_pool=cast(Any, redis.connection_pool),
            key_prefix=KEY_PREFIX,
        )
        self._bridge = cast(RedispyBridge, storage.bridge)
        self._clock = clock
        self.outage = RedisOutage("rate limiting (and cache lookups)")

    @property
    def scripts(self) -> list[bytes | str]:
        """The Lua scripts this limiter runs by hash, to load into a Redis that lacks them."""
        scripts = (self._bridge.lua_acquire_moving_window, self._bridge.lua_moving_window)
        return [
            bytes(script.script) if isinstance(script.script, memoryview) else script.script
            for script in scripts
        ]

    def queue_hit(
        self, pipe: EdgePipeline, scope: str, identity: str, limit: int, *, count: bool = True
    ) -> QueuedHit:
        """Queues one request of ``identity`` against ``limit`` per minute; with ``count=False``
        only asks whether one more would be admitted (a peek, which counts nothing)."""
        item = RateLimitItemPerMinute(limit)
        key = self._bridge.prefixed_key(item.key_for(scope, identity))
        now = self._clock()
        expiry = item.get_expiry()
        acquire_sha = self._bridge.lua_acquire_moving_window.sha
        window_sha = self._bridge.lua_moving_window.sha
        acquired = (
            pipe.queue(lambda raw: raw.evalsha(acquire_sha, 1, key, now, limit, expiry, 1))
            if count
            else None
        )
        window = pipe.queue(lambda raw: raw.evalsha(window_sha, 1, key, now - expiry, limit))
        return QueuedHit(item, now, acquired, window)
