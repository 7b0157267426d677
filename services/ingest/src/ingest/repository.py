"""What ingest keeps in Redis: cursors, each channel's status, and each channel's last good page.

Kept in Redis rather than in memory so a restart resumes where it stopped and every replica
(and the gateway, through any replica) sees the same channel status.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import TypeAdapter
from redis.asyncio import Redis

from ingest.cursor import FeedCursor
from ingest.lease import ChannelLease
from ingest.schemas import ChannelStatus
from orderhub_common.circuits import CircuitState
from orderhub_common.events import Channel, ChannelOrder

_PAGE = TypeAdapter(list[ChannelOrder])
MAX_ERROR_LENGTH = 300


class ChannelRepository:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix

    def key(self, kind: str, channel: Channel) -> str:
        return f"{self.prefix}:{kind}:{channel}"

    async def load_cursor(self, channel: Channel) -> FeedCursor:
        raw = await self.redis.get(self.key("cursor", channel))
        return FeedCursor.model_validate_json(raw) if raw else FeedCursor()

    async def save_cursor(self, channel: Channel, cursor: FeedCursor, lease: ChannelLease) -> bool:
        """Saves only while ``lease`` is held, so a poller that lost it cannot move the cursor."""
        return await lease.set_if_held(self.key("cursor", channel), cursor.model_dump_json())

    async def record_success(
        self, channel: Channel, *, circuit: CircuitState, published: int, at: datetime
    ) -> None:
        key = self.key("status", channel)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={"circuit": circuit.value, "lastSuccessAt": at.isoformat()})
            pipe.hincrby(key, "ordersIngested", published)
            # A good poll ends the outage: no "failing since" any more.
            pipe.hdel(key, "failingSince", "failedPolls")
            await pipe.execute()

    async def last_success_at(self, channel: Channel) -> datetime | None:
        stored = await self.redis.hget(self.key("status", channel), "lastSuccessAt")
        if stored is None:
            return None
        return datetime.fromisoformat(stored.decode() if isinstance(stored, bytes) else stored)

    async def record_failure(
        self,
        channel: Channel,
        *,
        circuit: CircuitState,
        error: str,
        at: datetime,
        kind: str | None = None,
    ) -> None:
        key = self.key("status", channel)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                key,
                mapping={
                    "circuit": circuit.value,
                    "lastErrorAt": at.isoformat(),
                    "lastError": error[:MAX_ERROR_LENGTH],
                    "lastErrorKind": kind or "",
                },
            )
            # The first failure since the last good poll starts the outage.
            pipe.hsetnx(key, "failingSince", at.isoformat())
            pipe.hincrby(key, "failedPolls", 1)
            await pipe.execute()

    async def start_backfill(self, channel: Channel, since: datetime, until: datetime) -> None:
        """The first connection's history import begins (kept if one already began)."""
        key = self.key("status", channel)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hsetnx(key, "backfillSince", since.isoformat())
            pipe.hsetnx(key, "backfillUntil", until.isoformat())
            await pipe.execute()

    async def record_backfill(self, channel: Channel, reached: datetime, *, done: bool) -> bool:
        """Where the history import stands; False once there is none to record (never begun,
        or finished)."""
        key = self.key("status", channel)
        began, finished = await self.redis.hmget(key, ["backfillSince", "backfillDone"])
        if began is None or finished in ("1", b"1"):
            return False
        await self.redis.hset(
            key, mapping={"backfillReached": reached.isoformat(), "backfillDone": int(done)}
        )
        return not done

    async def record_circuit(self, channel: Channel, circuit: CircuitState) -> None:
        await self.redis.hset(self.key("status", channel), "circuit", circuit.value)

    async def statuses(self, paused_by_config: frozenset[Channel]) -> list[ChannelStatus]:
        async with self.redis.pipeline(transaction=False) as pipe:
            for channel in Channel:
                pipe.hgetall(self.key("status", channel))
                pipe.get(self.key("paused", channel))
            replies = await pipe.execute()
        rows, pauses = replies[0::2], replies[1::2]
        return [
            ChannelStatus.model_validate(
                {"channel": channel, **row, "paused": _paused(pause, channel in paused_by_config)}
            )
            for channel, row, pause in zip(Channel, rows, pauses, strict=True)
        ]

    async def is_paused(self, channel: Channel, *, by_config: bool) -> bool:
        """An admin's last pause or resume if there is one, else the configured default."""
        return _paused(await self.redis.get(self.key("paused", channel)), by_config)

    async def set_paused(self, channel: Channel, paused: bool) -> None:
        await self.redis.set(self.key("paused", channel), "1" if paused else "0")

    async def cache_page(self, channel: Channel, orders: list[ChannelOrder]) -> None:
        await self.redis.set(self.key("last_page", channel), _PAGE.dump_json(orders))

    async def cached_page(self, channel: Channel) -> list[ChannelOrder]:
        raw = await self.redis.get(self.key("last_page", channel))
        return _PAGE.validate_json(raw) if raw else []


def _paused(stored: bytes | str | None, by_config: bool) -> bool:
    if stored is None:
        return by_config
    return stored in (b"1", "1")
