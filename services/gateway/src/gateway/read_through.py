"""Cached order reads: fresh entries served, stale ones served while they are refreshed, and one
fill per entry however many callers miss it at once.

- **Fresh**: served (``X-Cache: HIT``).
- **Stale** (the current version, past its freshness): served at once (``X-Cache: STALE``) while
  one background refresh runs; if the service fails or is saturated, the stale copy keeps being
  served until it expires.
- **Missing**: one fill. In this process, the first caller's fill is a future every other caller
  of the entry awaits (single flight). Across replicas, the filler takes a short Redis lock
  (``SET NX PX``, as long as a fill can take); a replica that finds it taken waits up to
  ``GATEWAY_CACHE_FILL_WAIT_S`` for the entry to appear, and asks the service itself only if it
  does not. A fill is keyed by the entry's version: a read after a change never joins a fill
  that started before it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import httpx

from gateway.cache import CachedResponse, CacheLookup, CacheSlot, ResponseCache
from gateway.singleflight import SingleFlight

Fetch = Callable[[], Awaitable[httpx.Response]]
Answer = CachedResponse | httpx.Response

_POLL_S = 0.05


class ReadThrough:
    def __init__(self, cache: ResponseCache, *, fill_wait_s: float) -> None:
        self._cache = cache
        self._fill_wait_s = fill_wait_s
        self._fills: SingleFlight[Answer] = SingleFlight()
        self._refreshes: SingleFlight[None] = SingleFlight()

    def cached(
        self, slot: CacheSlot, lookup: CacheLookup, fetch: Fetch
    ) -> tuple[Answer, str] | None:
        """The cached answer and how it was found (``HIT`` or ``STALE``), or None for a miss.

        A stale answer starts one background refresh through ``fetch`` (which asks the service).
        """
        if lookup.response is None:
            return None
        if lookup.fresh:
            return lookup.response, "HIT"
        key = f"{slot.entry_key}@{lookup.version}"
        self._refreshes.start(key, lambda: self._refresh(slot, lookup.version, fetch))
        return lookup.response, "STALE"

    async def fill(self, slot: CacheSlot, lookup: CacheLookup, fetch: Fetch) -> Answer:
        """The answer of a miss, from the one fill of this entry and version (raises what
        ``fetch`` raises, such as 503 when the service is down)."""
        key = f"{slot.entry_key}@{lookup.version}"
        return await self._fills.run(key, lambda: self._fill(slot, lookup.version, fetch))

    async def close(self) -> None:
        await self._fills.close()
        await self._refreshes.close()

    async def _fill(self, slot: CacheSlot, version: str, fetch: Fetch) -> Answer:
        if await self._cache.try_fill_lock(slot, version) is None:
            filled = await self._filled_elsewhere(slot, version)
            if filled is not None:
                return filled
            # The other replica is slow or gone: ask the service (its slots still bound this).
            return await self._fetched(slot, version, fetch)
        return await self._fetched(slot, version, fetch, locked=True)

    async def _refresh(self, slot: CacheSlot, version: str, fetch: Fetch) -> None:
        if await self._cache.try_fill_lock(slot, version) is None:
            return  # another replica refreshes it
        await self._fetched(slot, version, fetch, locked=True)

    async def _fetched(
        self, slot: CacheSlot, version: str, fetch: Fetch, *, locked: bool = False
    ) -> httpx.Response:
        try:
            response = await fetch()
        except BaseException:
            if locked:
                await self._cache.release_fill_lock(slot, version)
            raise
        cached = None
        if response.status_code == 200:
            media_type = response.headers.get("content-type", "application/json")
            cached = CachedResponse(response.status_code, media_type, response.text)
        await self._cache.filled(slot, version, cached, release_lock=locked)
        return response

    async def _filled_elsewhere(self, slot: CacheSlot, version: str) -> CachedResponse | None:
        deadline = time.monotonic() + self._fill_wait_s
        while time.monotonic() < deadline:
            await asyncio.sleep(_POLL_S)
            lookup = await self._cache.lookup(slot)
            if lookup is None or lookup.version != version:
                return None  # Redis is gone, or the order changed meanwhile: ask the service
            if lookup.response is not None and lookup.fresh:
                return lookup.response
        return None
