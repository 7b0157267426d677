"""Cached order reads: fresh entries served, the rest filled once however many callers ask at
once, and a stale copy served only while the service cannot answer.

- **Fresh**: served (``X-Cache: HIT``).
- **Stale** (the current version, past its freshness) or **missing**: one fill, which every
  caller of the entry waits for (``X-Cache: MISS``). An admin who clicks "show the new orders"
  gets them, not the copy from before they arrived. If the fill fails (the service is down,
  saturated or times out), the stale copy is served instead (``X-Cache: STALE``) until it
  expires.
- **Filling**: In this process, the first caller's fill is a future every other caller
  of the entry awaits (single flight). Across replicas, the lookup that finds no fresh answer
  takes a short Redis lock for its replica (``SET NX PX``, as long as a fill can take); a
  replica that finds another's lock waits up to ``GATEWAY_CACHE_FILL_WAIT_S`` for the entry to
  appear or the lock to go, and asks the service itself only then. A fill is keyed by the
  entry's version and the caller's write mark (``gateway.cache.store``): a read after a change
  never joins a fill that started before it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import httpx

from gateway.cache.singleflight import SingleFlight
from gateway.cache.store import CachedResponse, CacheLookup, CacheSlot, ResponseCache
from gateway.upstreams import UpstreamUnavailableError

Fetch = Callable[[], Awaitable[httpx.Response]]
Answer = CachedResponse | httpx.Response

_POLL_S = 0.05


class ReadThrough:
    def __init__(self, cache: ResponseCache, *, fill_wait_s: float) -> None:
        self._cache = cache
        self._fill_wait_s = fill_wait_s
        self._fills: SingleFlight[Answer] = SingleFlight()

    @staticmethod
    def cached(lookup: CacheLookup) -> CachedResponse | None:
        """The fresh cached answer, or None when the entry must be filled."""
        return lookup.response if lookup.fresh else None

    async def fill(self, slot: CacheSlot, lookup: CacheLookup, fetch: Fetch) -> tuple[Answer, str]:
        """The answer from the one fill of this entry and version, and how it was found
        (``MISS``); the stale copy (``STALE``) when the fill fails and there is one, else what
        ``fetch`` raised (such as 503 when the service is down)."""
        key = f"{slot.entry_key}@{lookup.fill}"
        try:
            answer = await self._fills.run(key, lambda: self._fill(slot, lookup, fetch))
        except UpstreamUnavailableError:
            if lookup.response is None:
                raise
            return lookup.response, "STALE"
        if isinstance(answer, httpx.Response) and answer.is_server_error and lookup.response:
            return lookup.response, "STALE"
        return answer, "MISS"

    async def close(self) -> None:
        await self._fills.close()

    async def _fill(self, slot: CacheSlot, lookup: CacheLookup, fetch: Fetch) -> Answer:
        deadline = time.monotonic() + self._fill_wait_s
        while not lookup.may_fill and time.monotonic() < deadline:
            # Another replica is filling the entry: its answer is this caller's too.
            await asyncio.sleep(_POLL_S)
            polled = await self._cache.lookup(slot)
            if polled is None or polled.version != lookup.version:
                break  # Redis is gone, or the order changed meanwhile: ask the service
            # An entry from before this caller's own write reads as missing (no response).
            if polled.response is not None and polled.fresh:
                return polled.response
            lookup = polled  # its lock, if the other replica let go of it
        # Without the lock only when the other replica is slow or gone (its slots still bound
        # the calls this lets through).
        return await self._fetched(slot, lookup, fetch, locked=lookup.may_fill)

    async def _fetched(
        self, slot: CacheSlot, lookup: CacheLookup, fetch: Fetch, *, locked: bool = False
    ) -> httpx.Response:
        try:
            response = await fetch()
        except BaseException:
            if locked:
                await self._cache.release_fill_lock(slot, lookup)
            raise
        cached = None
        if response.status_code == 200:
            media_type = response.headers.get("content-type", "application/json")
            cached = CachedResponse(response.status_code, media_type, response.text)
        await self._cache.fill(slot, lookup, cached, release_lock=locked)
        return response
