"""Every service's own per-address rate limit, for callers that reach it without the gateway.

The gateway limits each signed-in user, and each address calling without a token, at the edge;
a service reached on its own port (anything on its host or network can) limits each client
address itself: N requests per minute in a moving window (the ``limits`` library, the same
counting as the gateway's), 429 ``rate_limited`` with ``Retry-After`` beyond. A call a trusted
proxy relays (``FORWARDED_ALLOW_IPS``: the gateway) was limited at the edge and is not counted
again: a count per address behind the edge would throttle an office of colleagues behind one
address, whom the edge counts each on their own, and cost every call a Redis round trip.

The counts live in the service's Redis, shared by its replicas; a service without Redis (the
mock channels) counts in its own memory. Health, readiness and metrics are never limited (the
orchestrator and Prometheus call them), and neither is whatever the service exempts (the
gateway's ``/api``, limited at the edge). Redis down: the limit is skipped (fail open, logged
once), as at the edge: a protection must not take the service down with it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from loguru import logger
from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.types import ASGIApp, Receive, Scope, Send

from orderhub_common.errors import error_response
from orderhub_common.http import RELAYED_BY_PROXY, UNKNOWN_CLIENT, HttpMiddleware

ALWAYS_ADMITTED = ("/healthz", "/readyz", "/metrics")
_REDIS_FAILURES = (RedisError, OSError, TimeoutError)


@dataclass(frozen=True)
class RateLimit:
    """What ``create_service_app`` limits: ``per_ip_per_min`` per client address, counted in
    ``redis`` (None: in memory), under keys named after ``service``."""

    service: str
    per_ip_per_min: int
    redis: Redis | None = None
    exempt_prefixes: Sequence[str] = field(default=())


class RateLimitMiddleware(HttpMiddleware):
    def __init__(self, app: ASGIApp, *, limit: RateLimit) -> None:
        super().__init__(app)
        storage: Storage
        if limit.redis is None:
            storage = MemoryStorage()
        else:
            storage = RedisStorage(
                "async+redis://",
                implementation="redispy",
                connection_pool=cast(Any, limit.redis.connection_pool),
                key_prefix=f"{limit.service}:ratelimit",
            )
        self._limiter = MovingWindowRateLimiter(storage)
        self._item = RateLimitItemPerMinute(limit.per_ip_per_min)
        self._admitted = (*ALWAYS_ADMITTED, *limit.exempt_prefixes)
        self._redis_down = False

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if path.startswith(self._admitted) or scope.get(RELAYED_BY_PROXY):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = client[0] if client else UNKNOWN_CLIENT
        retry_after_s = await self._refused_for(address)
        if retry_after_s is None:
            await self.app(scope, receive, send)
            return
        response = error_response(
            429,
            "rate_limited",
            f"more than {self._item.amount} requests a minute from this address; retry later",
            headers={"Retry-After": str(retry_after_s)},
        )
        await response(scope, receive, send)

    async def _refused_for(self, address: str) -> int | None:
        """None if the request is admitted, else the seconds until one more would be."""
        try:
            if await self._limiter.hit(self._item, "ip", address):
                self._answered()
                return None
            stats = await self._limiter.get_window_stats(self._item, "ip", address)
        except _REDIS_FAILURES as exc:
            if not self._redis_down:
                self._redis_down = True
                logger.warning(f"redis is not answering, rate limiting is bypassed: {exc!r}")
            return None
        self._answered()
        return max(1, math.ceil(stats.reset_time - time.time()))

    def _answered(self) -> None:
        if self._redis_down:
            self._redis_down = False
            logger.info("redis answers again, rate limiting is back")
