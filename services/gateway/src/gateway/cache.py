"""Order reads cached in Redis, versioned so that no read finds an answer from before a change
the gateway knows of.

- An order's detail (``GET /orders/{id}``) is versioned by that order: its order events, and every
  successful write to it through the gateway (before the write is answered), bump the order's
  version. Fresh for ``CACHE_TTL_S``.
- Lists and stats (``GET /orders``, ``/orders/stats``) are versioned by the list generation, which
  only successful writes through the gateway bump (admin actions are rare), and are fresh for
  ``GATEWAY_LIST_CACHE_TTL_S``. Ingest events do not touch them: under continuous ingest a list is
  at most that old (plus one refresh), and the cache keeps working while orders flow in. An admin's
  own change is never followed by a list or stats answer from before it.
- A write that names no single order (a bulk move) bumps the detail epoch too, which every
  detail's version includes.

Every entry is kept ``GATEWAY_CACHE_STALE_TTL_S`` past its freshness. A *stale* entry (the current
version, past its freshness) may be served while it is refreshed or while its service fails; an
entry of an older version never is. Nothing is scanned or deleted: a bump makes older entries
unreachable, and they expire. A lookup is one ``MGET`` of the version counters and the entry,
queued in the request's one pipeline.

Entries are shared by callers of the same role (answers differ by role, not by user).
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import cast
from urllib.parse import unquote, urlencode

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from gateway.redis_outage import REDIS_FAILURES, RedisOutage

LIST_GENERATION_KEY = "gw:cache:orders:generation"
DETAIL_EPOCH_KEY = "gw:cache:orders:detail-epoch"
_STATS_PATH = "/orders/stats"


@dataclass(frozen=True)
class CachedResponse:
    status_code: int
    media_type: str
    body: str


@dataclass(frozen=True)
class CacheSlot:
    """Where one read is kept: its entry, the counters that version it, how long it is fresh."""

    entry_key: str
    version_keys: tuple[str, ...]
    fresh_s: float

    def fill_lock_key(self, version: str) -> str:
        return f"{self.entry_key}:fill:{version}"


@dataclass(frozen=True)
class CacheLookup:
    version: str
    """The slot's current version: only an entry stored under it may be served."""
    response: CachedResponse | None
    fresh: bool


def normalized_query(items: Iterable[tuple[str, str]]) -> str:
    """The query in one canonical spelling: the same question always finds the same entry.

    Pairs are sorted but repeats are kept (``status=A&status=B`` is not ``status=A``).
    """
    return urlencode(sorted(items))


def order_version_key(order_id: str) -> str:
    return f"gw:cache:order:{order_id}:version"


def cache_slot(
    audience: str, path: str, query: str, *, detail_fresh_s: float, list_fresh_s: float
) -> CacheSlot:
    """The slot of one read; ``audience`` is whatever makes answers differ (the caller's role).

    ``path`` is the service path (``/orders``, ``/orders/stats`` or ``/orders/{id}``).
    """
    digest = hashlib.sha256(f"{audience}\n{path}\n{query}".encode()).hexdigest()[:32]
    segments = path.strip("/").split("/")
    if len(segments) == 2 and path != _STATS_PATH:
        order_id = unquote(segments[1])
        return CacheSlot(
            entry_key=f"gw:cache:order:{order_id}:{digest}",
            version_keys=(DETAIL_EPOCH_KEY, order_version_key(order_id)),
            fresh_s=detail_fresh_s,
        )
    return CacheSlot(
        entry_key=f"gw:cache:orders:{digest}",
        version_keys=(LIST_GENERATION_KEY,),
        fresh_s=list_fresh_s,
    )


def encode_entry(version: str, fresh_until: float, response: CachedResponse) -> str:
    # A header line per field, then the body as the service sent it (never re-encoded).
    return (
        f"{version}\n{fresh_until:.3f}\n{response.status_code}\n{response.media_type}\n"
        f"{response.body}"
    )


def decode_entry(raw: str, version: str, now: float) -> tuple[CachedResponse, bool] | None:
    """The entry's response and whether it is fresh; None if it is of another version."""
    stored_version, fresh_until, status_code, media_type, body = raw.split("\n", 4)
    if stored_version != version:
        return None
    return CachedResponse(int(status_code), media_type, body), now < float(fresh_until)


class ResponseCache:
    def __init__(
        self,
        redis: Redis,
        *,
        detail_fresh_s: float,
        list_fresh_s: float,
        stale_s: float,
        fill_timeout_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = redis
        self._detail_fresh_s = detail_fresh_s
        self._list_fresh_s = list_fresh_s
        self._stale_s = stale_s
        self._fill_timeout_s = fill_timeout_s
        self._clock = clock
        # An order's version must outlive every entry stored before its last bump, or the
        # counter could restart at an old entry's version.
        self._order_version_ttl_s = int(2 * (detail_fresh_s + stale_s + fill_timeout_s)) + 1
        self._outage = RedisOutage("the response cache")
        # Changes this replica could not record: until they are, no read may use the cache.
        self._pending_orders: set[str] = set()
        self._pending_everything = False

    def slot(self, audience: str, path: str, query: str) -> CacheSlot:
        return cache_slot(
            audience,
            path,
            query,
            detail_fresh_s=self._detail_fresh_s,
            list_fresh_s=self._list_fresh_s,
        )

    async def usable(self) -> bool:
        """False while a change this replica saw is not recorded in Redis yet (reads bypass)."""
        if not (self._pending_orders or self._pending_everything):
            return True
        orders, everything = set(self._pending_orders), self._pending_everything
        self._pending_orders.clear()
        self._pending_everything = False
        await self._bump(orders, lists=everything, every_detail=everything)
        return not (self._pending_orders or self._pending_everything)

    def queue_lookup(self, pipe: Pipeline, slot: CacheSlot) -> None:
        pipe.mget([*slot.version_keys, slot.entry_key])

    def read(self, slot: CacheSlot, values: Sequence[str | None]) -> CacheLookup:
        """The lookup ``queue_lookup``'s reply describes."""
        self._outage.answered()
        *versions, raw = values
        version = ".".join(value or "0" for value in versions)
        decoded = decode_entry(raw, version, self._clock()) if raw is not None else None
        if decoded is None:
            return CacheLookup(version, None, fresh=False)
        response, fresh = decoded
        return CacheLookup(version, response, fresh)

    async def lookup(self, slot: CacheSlot) -> CacheLookup | None:
        """The slot as Redis has it now (its own round trip); None while Redis is down."""
        try:
            values = cast(
                "list[str | None]", await self._redis.mget([*slot.version_keys, slot.entry_key])
            )
        except REDIS_FAILURES as exc:
            self._outage.failed(exc)
            return None
        return self.read(slot, values)

    async def filled(
        self,
        slot: CacheSlot,
        version: str,
        response: CachedResponse | None,
        *,
        release_lock: bool,
    ) -> None:
        """Stores ``response`` (None: nothing to keep) and releases the fill lock, at once."""
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                if response is not None:
                    fresh_until = self._clock() + slot.fresh_s
                    pipe.set(
                        slot.entry_key,
                        encode_entry(version, fresh_until, response),
                        px=int((slot.fresh_s + self._stale_s) * 1000),
                    )
                if release_lock:
                    # The lock lives as long as a fill can take (the upstream timeouts), so the
                    # one deleted here is this fill's own; a late delete lets one more fill in.
                    pipe.delete(slot.fill_lock_key(version))
                await pipe.execute()
        except REDIS_FAILURES as exc:
            self._outage.failed(exc)

    async def try_fill_lock(self, slot: CacheSlot, version: str) -> str | None:
        """A token if this caller may fill the slot now; None if another replica is filling it.

        Redis down: every caller may fill (its service's own limits still apply).
        """
        token = uuid.uuid4().hex
        try:
            taken = await self._redis.set(
                slot.fill_lock_key(version),
                token,
                nx=True,
                px=int(self._fill_timeout_s * 1000),
            )
        except REDIS_FAILURES as exc:
            self._outage.failed(exc)
            return token
        return token if taken else None

    async def release_fill_lock(self, slot: CacheSlot, version: str) -> None:
        await self.filled(slot, version, None, release_lock=True)

    async def order_changed(self, order_id: str | None) -> None:
        """An order event: that order's detail (every order's, when ``order_id`` is None) is
        read again; lists and stats keep their short freshness."""
        orders = {order_id} if order_id is not None else set()
        await self._bump(orders, lists=False, every_detail=order_id is None)

    async def written(self, order_id: str | None) -> None:
        """A successful write through the gateway, before it is answered: no later read of that
        order (or of any order, when ``order_id`` is None), nor of any list or stats, finds an
        answer from before it."""
        orders = {order_id} if order_id is not None else set()
        await self._bump(orders, lists=True, every_detail=order_id is None)

    async def _bump(self, orders: set[str], *, lists: bool, every_detail: bool) -> None:
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for order_id in orders:
                    pipe.incr(order_version_key(order_id))
                    pipe.expire(order_version_key(order_id), self._order_version_ttl_s)
                if lists:
                    pipe.incr(LIST_GENERATION_KEY)
                if every_detail:
                    pipe.incr(DETAIL_EPOCH_KEY)
                await pipe.execute()
        except REDIS_FAILURES as exc:
            self._pending_orders |= orders
            self._pending_everything = self._pending_everything or lists or every_detail
            self._outage.failed(exc)
