"""Order reads cached in Redis, versioned so that no read finds an answer from before a change
the gateway knows of.

- An order's detail (``GET /orders/{id}``) is versioned by that order: its order events, and every
  successful write to it through the gateway (before the write is answered), bump the order's
  version. Fresh for ``CACHE_TTL_S``.
- Lists and stats (``GET /orders``, ``/orders/stats``, ``/orders/matching``) are fresh for
  ``GATEWAY_LIST_CACHE_TTL_S``.
  Neither ingest events nor another admin's change of one order touch them: a list is at most
  that old (plus one refresh), and the cache keeps working while orders flow in and admins work.
  An admin's own change is never followed by a list or stats answer from before it: each write
  takes the next number of a write sequence and leaves it as the writer's mark; every entry
  records the sequence as it was before its fill asked the service, and an entry from before a
  caller's mark is, for that caller, missing.
- A write that names no single order (a bulk move) changes many orders at once: it bumps the
  list generation (every list and stats entry, for everyone) and the detail epoch, which every
  detail's version includes.

Every entry is kept ``GATEWAY_CACHE_STALE_TTL_S`` past its freshness. A *stale* entry (the current
version, past its freshness) may be served while it is refreshed or while its service fails; an
entry of an older version never is. Nothing is scanned or deleted: a bump makes older entries
unreachable, and they expire.

A lookup is one script (``_LOOK_UP``), queued in the request's one pipeline: it reads the version
counters and the entry, judges the entry, and when it holds no fresh answer for the caller takes
the entry's fill lock for this replica (``gateway.cache.read_through``), so a miss costs no
round trip of its own before the service is asked.

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

from gateway.redis_outage import (
    REDIS_FAILURES,
    EdgePipeline,
    RedisOutage,
    Reply,
    one_round_trip,
)

LIST_GENERATION_KEY = "gw:cache:orders:generation"
WRITE_SEQUENCE_KEY = "gw:cache:orders:write-sequence"
DETAIL_EPOCH_KEY = "gw:cache:orders:detail-epoch"
# Reads of many orders under a list's filters, cached as the list is (not as an order's detail).
_LIST_LIKE_PATHS = frozenset({"/orders/stats", "/orders/matching"})
# In every entry's key: replicas of another release never read entries of another layout.
_ENTRY_LAYOUT = "2"

# The lookup. KEYS: the slot's version counters, then (for lists) the write sequence and the
# reader's mark, then the entry. ARGV: how many version counters, now (s), the fill lock's life
# (ms), this replica's id, 1 if the caller wants an answer from now even over a fresh entry.
# Returns the version, the write sequence, the reader's mark, the entry's state for this reader
# (fresh, stale or none), 1 if this replica may fill the entry (it holds the fill lock), and the
# entry unless its state is none. The lock's key is built here: it is named by the version read
# here. The entry's first three lines are ``encode_entry``'s version, as-of and fresh-until.
_LOOK_UP = r"""
local counters = tonumber(ARGV[1])
local values = redis.call('MGET', unpack(KEYS))
local parts = {}
for i = 1, counters do parts[i] = values[i] or '0' end
local version = table.concat(parts, '.')
local as_of, not_before = 0, 0
if #KEYS == counters + 3 then
  as_of = tonumber(values[counters + 1] or '0')
  not_before = tonumber(values[counters + 2] or '0')
end
local entry = values[#KEYS]
local state = 'none'
if entry then
  local stored, stored_as_of, fresh_until = string.match(entry, '^([^\n]*)\n([^\n]*)\n([^\n]*)\n')
  if stored == version and tonumber(stored_as_of) >= not_before then
    if tonumber(ARGV[2]) < tonumber(fresh_until) then state = 'fresh' else state = 'stale' end
  end
end
local may_fill = 0
if state ~= 'fresh' or ARGV[5] == '1' then
  local lock = KEYS[#KEYS] .. ':fill:' .. version .. '>' .. not_before
  local taken = redis.call('SET', lock, ARGV[4], 'NX', 'PX', ARGV[3])
  if taken or redis.call('GET', lock) == ARGV[4] then may_fill = 1 end
end
if state == 'none' then entry = false end
return {version, as_of, not_before, state, may_fill, entry}
"""
# Redis names a script by its SHA-1.
LOOK_UP_SHA = hashlib.sha1(_LOOK_UP.encode(), usedforsecurity=False).hexdigest()

# Takes the next number of the write sequence and leaves it as the writer's mark, at once.
_MARK_WRITE = """
local number = redis.call('INCR', KEYS[1])
redis.call('SET', KEYS[2], number, 'PX', ARGV[1])
return number
"""


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
    writer_key: str | None = None
    """The caller's write mark, for reads that a caller's own writes must be seen in."""
    revalidate: bool = False
    """The caller wants an answer from now ("Cache-Control: no-cache"), even over a fresh entry."""

    @property
    def lookup_keys(self) -> list[str]:
        marks = [WRITE_SEQUENCE_KEY, self.writer_key] if self.writer_key else []
        return [*self.version_keys, *marks, self.entry_key]

    def fill_lock_key(self, fill: str) -> str:
        return f"{self.entry_key}:fill:{fill}"


@dataclass(frozen=True)
class CacheLookup:
    version: str
    """The slot's current version: only an entry stored under it may be served."""
    response: CachedResponse | None
    fresh: bool
    as_of: int = 0
    """The write sequence before this lookup: what a fill started now has seen."""
    not_before: int = 0
    """The caller's write mark: entries from before it are missing for this caller."""
    may_fill: bool = False
    """This replica holds the entry's fill lock: no other replica is asking the service."""

    @property
    def fill(self) -> str:
        """What a fill for this caller is keyed by: callers who may share one answer share it."""
        return f"{self.version}>{self.not_before}"


def normalized_query(items: Iterable[tuple[str, str]]) -> str:
    """The query in one canonical spelling: the same question always finds the same entry.

    Pairs are sorted but repeats are kept (``status=A&status=B`` is not ``status=A``).
    """
    return urlencode(sorted(items))


def order_version_key(order_id: str) -> str:
    return f"gw:cache:order:{order_id}:version"


def writer_key(user_id: str) -> str:
    return f"gw:cache:orders:written-by:{user_id}"


def cache_slot(
    audience: str,
    path: str,
    query: str,
    *,
    reader: str,
    detail_fresh_s: float,
    list_fresh_s: float,
    revalidate: bool = False,
) -> CacheSlot:
    """The slot of one read; ``audience`` is whatever makes answers differ (the caller's role),
    ``reader`` the caller's user id, whose own writes the answer must show.

    ``path`` is the service path (``/orders``, ``/orders/stats`` or ``/orders/{id}``).
    """
    question = f"{_ENTRY_LAYOUT}\n{audience}\n{path}\n{query}"
    digest = hashlib.sha256(question.encode()).hexdigest()[:32]
    segments = path.strip("/").split("/")
    if len(segments) == 2 and path not in _LIST_LIKE_PATHS:
        order_id = unquote(segments[1])
        return CacheSlot(
            entry_key=f"gw:cache:order:{order_id}:{digest}",
            version_keys=(DETAIL_EPOCH_KEY, order_version_key(order_id)),
            fresh_s=detail_fresh_s,
            revalidate=revalidate,
        )
    return CacheSlot(
        entry_key=f"gw:cache:orders:{digest}",
        version_keys=(LIST_GENERATION_KEY,),
        fresh_s=list_fresh_s,
        writer_key=writer_key(reader),
        revalidate=revalidate,
    )


def encode_entry(version: str, as_of: int, fresh_until: float, response: CachedResponse) -> str:
    # A header line per field, then the body as the service sent it (never re-encoded). The
    # lookup script reads the first three lines.
    return (
        f"{version}\n{as_of}\n{fresh_until:.3f}\n{response.status_code}\n"
        f"{response.media_type}\n{response.body}"
    )


def decode_entry(raw: str) -> CachedResponse:
    """The answer an entry holds (the lookup script has judged its version and freshness)."""
    _version, _as_of, _fresh_until, status_code, media_type, body = raw.split("\n", 5)
    return CachedResponse(int(status_code), media_type, body)


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
        # A writer's mark must outlive every list entry filled before the write.
        self._writer_mark_ttl_ms = int((list_fresh_s + stale_s + fill_timeout_s + 1) * 1000)
        # Whose fill lock a lookup takes: this replica's, so its callers share one fill.
        self._replica = uuid.uuid4().hex
        self._outage = RedisOutage("the response cache")
        # Changes this replica could not record: until they are, no read may use the cache.
        self._pending_orders: set[str] = set()
        self._pending_everything = False

    def slot(
        self, audience: str, path: str, query: str, *, reader: str, revalidate: bool = False
    ) -> CacheSlot:
        return cache_slot(
            audience,
            path,
            query,
            reader=reader,
            detail_fresh_s=self._detail_fresh_s,
            list_fresh_s=self._list_fresh_s,
            revalidate=revalidate,
        )

    async def is_usable(self) -> bool:
        """False while a change this replica saw is not recorded in Redis yet (reads bypass)."""
        if not (self._pending_orders or self._pending_everything):
            return True
        orders, everything = set(self._pending_orders), self._pending_everything
        self._pending_orders.clear()
        self._pending_everything = False
        await self._bump(orders, lists=everything, every_detail=everything)
        return not (self._pending_orders or self._pending_everything)

    @property
    def scripts(self) -> list[str]:
        """The Lua scripts the cache runs by hash, to load into a Redis that lacks them."""
        return [_LOOK_UP]

    def queue_lookup(self, pipe: EdgePipeline, slot: CacheSlot) -> Reply:
        """Queues the slot's lookup; ``read`` its reply once the pipeline was sent."""
        keys, arguments = slot.lookup_keys, self._look_up_arguments(slot)
        return pipe.queue(lambda raw: raw.evalsha(LOOK_UP_SHA, len(keys), *keys, *arguments))

    def read(self, reply: Sequence[object]) -> CacheLookup:
        """The lookup a reply of the lookup script describes."""
        self._outage.answered()
        version, as_of, not_before, state, may_fill, raw = reply
        return CacheLookup(
            cast(str, version),
            decode_entry(cast(str, raw)) if raw is not None else None,
            fresh=state == "fresh",
            as_of=cast(int, as_of),
            not_before=cast(int, not_before),
            may_fill=bool(may_fill),
        )

    async def lookup(self, slot: CacheSlot) -> CacheLookup | None:
        """The slot as Redis has it now (its own round trip); None while Redis is down."""
        try:
            reply = await one_round_trip(
                self._redis, lambda pipe: self.queue_lookup(pipe, slot), self.scripts
            )
        except REDIS_FAILURES as exc:
            self._outage.failed(exc)
            return None
        return self.read(reply.value)

    def _look_up_arguments(self, slot: CacheSlot) -> list[str]:
        """The lookup script's ARGV for ``slot`` (its KEYS are ``slot.lookup_keys``)."""
        return [
            str(len(slot.version_keys)),
            repr(self._clock()),
            str(int(self._fill_timeout_s * 1000)),
            self._replica,
            str(int(slot.revalidate)),
        ]

    async def fill(
        self,
        slot: CacheSlot,
        lookup: CacheLookup,
        response: CachedResponse | None,
        *,
        release_lock: bool,
    ) -> None:
        """Stores ``response`` (None: nothing to keep), the answer to a fill started after
        ``lookup``, and releases the fill lock, at once."""
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                if response is not None:
                    fresh_until = self._clock() + slot.fresh_s
                    pipe.set(
                        slot.entry_key,
                        encode_entry(lookup.version, lookup.as_of, fresh_until, response),
                        px=int((slot.fresh_s + self._stale_s) * 1000),
                    )
                if release_lock:
                    # The lock lives as long as a fill can take (the upstream timeouts), so the
                    # one deleted here is this fill's own; a late delete lets one more fill in.
                    pipe.delete(slot.fill_lock_key(lookup.fill))
                await pipe.execute()
        except REDIS_FAILURES as exc:
            self._outage.failed(exc)

    async def release_fill_lock(self, slot: CacheSlot, lookup: CacheLookup) -> None:
        await self.fill(slot, lookup, None, release_lock=True)

    async def orders_changed(self, order_ids: Iterable[str], *, every_detail: bool = False) -> None:
        """Order events: those orders' details (every order's, with ``every_detail``) are read
        again, in one round trip for a whole batch; lists and stats keep their short freshness."""
        await self._bump(set(order_ids), lists=False, every_detail=every_detail)

    async def record_write(self, order_id: str | None, writer: str | None) -> None:
        """A successful write through the gateway, before it is answered: no later read of that
        order (of any order, when ``order_id`` is None) finds an answer from before it, nor
        does any list or stats read of the ``writer`` (of anyone's, when ``order_id`` or the
        writer is not known)."""
        if order_id is None:
            await self._bump(set(), lists=True, every_detail=True)
        elif writer is None:
            await self._bump({order_id}, lists=True, every_detail=False)
        else:
            await self._bump({order_id}, writer=writer, lists=False, every_detail=False)

    async def _bump(
        self, orders: set[str], *, writer: str | None = None, lists: bool, every_detail: bool
    ) -> None:
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                if writer is not None:
                    # EVAL, not a cached script: writes are rare, and it needs no loading.
                    keys = (WRITE_SEQUENCE_KEY, writer_key(writer))
                    pipe.eval(_MARK_WRITE, len(keys), *keys, self._writer_mark_ttl_ms)
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
            # A writer's mark that could not be left: every list is refilled once it can be.
            self._pending_everything = (
                self._pending_everything or lists or every_detail or writer is not None
            )
            self._outage.failed(exc)
