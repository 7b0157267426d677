"""Short-lived cache of order reads in Redis, invalidated by a generation counter.

Every cache key carries the current orders generation. A successful order write through the
gateway, and every order event on ``orders.events.v1``, bumps the generation: from then on every
read builds a new key, so nothing cached before the change is ever served again, without scanning
for keys to delete. The old entries expire on their own after the TTL.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlencode

from redis.asyncio import Redis

from gateway.redis_state import REDIS_FAILURES, RedisOutage

GENERATION_KEY = "gw:cache:orders:generation"


@dataclass(frozen=True)
class CachedResponse:
    status_code: int
    media_type: str
    body: str

    def dumps(self) -> str:
        return json.dumps([self.status_code, self.media_type, self.body])

    @classmethod
    def loads(cls, raw: str | bytes) -> CachedResponse:
        status_code, media_type, body = json.loads(raw)
        return cls(int(status_code), str(media_type), str(body))


def normalized_query(items: Iterable[tuple[str, str]]) -> str:
    """The query in one canonical spelling: the same question always finds the same entry.

    Pairs are sorted but repeats are kept (``status=A&status=B`` is not ``status=A``).
    """
    return urlencode(sorted(items))


def cache_key(generation: int, audience: str, path: str, query: str) -> str:
    """The key of one read; ``audience`` is whatever makes answers differ (the caller's role)."""
    digest = hashlib.sha256(f"{audience}\n{path}\n{query}".encode()).hexdigest()[:32]
    return f"gw:cache:orders:g{generation}:{digest}"


class ResponseCache:
    def __init__(self, redis: Redis, *, ttl_s: int) -> None:
        self._redis = redis
        self._ttl_s = ttl_s
        self._outage = RedisOutage("the response cache")
        # A change this replica could not record: until it is, no read may use the cache.
        self._invalidation_pending = False

    async def key_for(self, audience: str, path: str, query: str) -> str | None:
        """The entry's key under the current generation; None when Redis is down (no caching)."""
        try:
            if self._invalidation_pending:
                await self._redis.incr(GENERATION_KEY)
                self._invalidation_pending = False
            generation = int(await self._redis.get(GENERATION_KEY) or 0)
        except REDIS_FAILURES as exc:
            self._outage.failed(exc)
            return None
        self._outage.answered()
        return cache_key(generation, audience, path, query)

    async def get(self, key: str) -> CachedResponse | None:
        try:
            raw = await self._redis.get(key)
        except REDIS_FAILURES as exc:
            self._outage.failed(exc)
            return None
        return CachedResponse.loads(raw) if raw is not None else None

    async def put(self, key: str, response: CachedResponse) -> None:
        try:
            await self._redis.set(key, response.dumps(), ex=self._ttl_s)
        except REDIS_FAILURES as exc:
            self._outage.failed(exc)

    async def invalidate_orders(self) -> None:
        """Moves every order read to a new generation: nothing cached before now is served."""
        try:
            await self._redis.incr(GENERATION_KEY)
        except REDIS_FAILURES as exc:
            self._invalidation_pending = True
            self._outage.failed(exc)
