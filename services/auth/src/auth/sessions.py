"""Refresh-token families: every refresh swaps the token for a new one in the same family.

A refresh token works once. Presenting one that was already used means it leaked (either the
thief or the user now holds a stale copy), so the whole family is revoked: the newer token dies
too, and the user signs in again. State lives in Redis with TTLs, so nothing needs cleaning up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from loguru import logger
from redis.asyncio import Redis

from auth.errors import InvalidRefreshTokenError
from auth.tokens import new_refresh_token, refresh_token_digest
from orderhub_common.context import new_id


@dataclass(frozen=True)
class RefreshTokenRecord:
    user_id: str
    family_id: str


@dataclass(frozen=True)
class ClaimedRefreshToken:
    record: RefreshTokenRecord
    used_before: bool


class RefreshTokenStore(Protocol):
    async def save(self, digest: str, record: RefreshTokenRecord, ttl_s: int) -> None: ...

    async def claim(self, digest: str) -> ClaimedRefreshToken | None:
        """Marks the token used, atomically; says whether it already was. None if unknown."""
        ...

    async def revoke_family(self, family_id: str, ttl_s: int) -> None: ...

    async def is_family_revoked(self, family_id: str) -> bool: ...


class RefreshSessions:
    def __init__(self, store: RefreshTokenStore, *, ttl_s: int) -> None:
        self._store = store
        self._ttl_s = ttl_s

    async def start(self, user_id: str) -> str:
        """A refresh token opening a new family (one per sign-in)."""
        return await self.continue_family(RefreshTokenRecord(user_id=user_id, family_id=new_id()))

    async def continue_family(self, record: RefreshTokenRecord) -> str:
        token = new_refresh_token()
        await self._store.save(refresh_token_digest(token), record, self._ttl_s)
        return token

    async def redeem(self, token: str) -> RefreshTokenRecord:
        """Uses up ``token``; its successor comes from ``continue_family``."""
        claimed = await self._store.claim(refresh_token_digest(token))
        if claimed is None:
            raise InvalidRefreshTokenError()
        record = claimed.record
        if claimed.used_before:
            logger.bind(userId=record.user_id, familyId=record.family_id).warning(
                "refresh token reused: revoking its family"
            )
            await self.revoke(record.family_id)
            raise InvalidRefreshTokenError()
        if await self._store.is_family_revoked(record.family_id):
            raise InvalidRefreshTokenError()
        return record

    async def revoke(self, family_id: str) -> None:
        await self._store.revoke_family(family_id, self._ttl_s)

    async def end(self, token: str) -> None:
        """Logout: the token and every token of its family stop working."""
        claimed = await self._store.claim(refresh_token_digest(token))
        if claimed is not None:
            await self.revoke(claimed.record.family_id)


# Returns the token's fields as they were before this claim, and marks it used.
_CLAIM_SCRIPT = """
local record = redis.call('HMGET', KEYS[1], 'user', 'family', 'state')
if not record[1] then return false end
if record[3] == 'active' then redis.call('HSET', KEYS[1], 'state', 'used') end
return record
"""


class RedisRefreshTokenStore:
    def __init__(self, redis: Redis, *, prefix: str = "auth:") -> None:
        self._redis = redis
        self._prefix = prefix
        self._claim = redis.register_script(_CLAIM_SCRIPT)

    def _token_key(self, digest: str) -> str:
        return f"{self._prefix}refresh:{digest}"

    def _revoked_key(self, family_id: str) -> str:
        return f"{self._prefix}family-revoked:{family_id}"

    async def save(self, digest: str, record: RefreshTokenRecord, ttl_s: int) -> None:
        key = self._token_key(digest)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={"user": record.user_id, "family": record.family_id})
            pipe.hset(key, "state", "active")
            pipe.expire(key, ttl_s)
            await pipe.execute()

    async def claim(self, digest: str) -> ClaimedRefreshToken | None:
        found = await self._claim(keys=[self._token_key(digest)])
        if not found:
            return None
        user_id, family_id, state = found
        return ClaimedRefreshToken(
            record=RefreshTokenRecord(user_id=user_id, family_id=family_id),
            used_before=state != "active",
        )

    async def revoke_family(self, family_id: str, ttl_s: int) -> None:
        await self._redis.set(self._revoked_key(family_id), "1", ex=ttl_s)

    async def is_family_revoked(self, family_id: str) -> bool:
        return bool(await self._redis.exists(self._revoked_key(family_id)))
