"""Refresh-token families: every refresh swaps the token for a new one in the same family.

A refresh token works once. Presenting one that was already used means it leaked (either the
thief or the user now holds a stale copy), so the whole family is revoked: the newer token dies
too, and the user signs in again. A family also ends when the user's access version moves (a
role, state, password or email change ends every session of the user: ``AuthService.refresh``
compares), and at the latest ``max_lifetime_s`` after its sign-in, however often it is renewed.
The records live in a ``RefreshTokenStore``: in Redis with TTLs
(``repository.RedisRefreshTokenStore``), so nothing needs cleaning up.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from loguru import logger

from auth.errors import InvalidRefreshTokenError
from auth.tokens import new_refresh_token, refresh_token_digest
from orderhub_common.context import new_id


@dataclass(frozen=True)
class RefreshTokenRecord:
    user_id: str
    family_id: str
    access_version: int = 0
    """The user's access version at sign-in."""
    started_at: int = 0
    """When the family's sign-in was (epoch seconds)."""


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

    async def peek(self, digest: str) -> RefreshTokenRecord | None:
        """The token's record without using it up."""
        ...


class RefreshSessions:
    def __init__(
        self,
        store: RefreshTokenStore,
        *,
        ttl_s: int,
        max_lifetime_s: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._ttl_s = ttl_s
        self._max_lifetime_s = max_lifetime_s
        self._clock = clock

    async def start(self, user_id: str, access_version: int) -> str:
        """A refresh token opening a new family (one per sign-in)."""
        record = RefreshTokenRecord(
            user_id=user_id,
            family_id=new_id(),
            access_version=access_version,
            started_at=int(self._clock()),
        )
        return await self.continue_family(record)

    async def continue_family(self, record: RefreshTokenRecord) -> str:
        token = new_refresh_token()
        # Never past the session's absolute end.
        ends_in = record.started_at + self._max_lifetime_s - int(self._clock())
        await self._store.save(
            refresh_token_digest(token), record, max(1, min(self._ttl_s, ends_in))
        )
        return token

    async def owner(self, token: str) -> str | None:
        """Whose session ``token`` belongs to (None if unknown), without using it up."""
        record = await self._store.peek(refresh_token_digest(token))
        return record.user_id if record is not None else None

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
        if self._clock() >= record.started_at + self._max_lifetime_s:
            logger.bind(userId=record.user_id).info("session reached its absolute lifetime")
            await self.revoke(record.family_id)
            raise InvalidRefreshTokenError()
        return record

    async def revoke(self, family_id: str) -> None:
        await self._store.revoke_family(family_id, self._ttl_s)

    async def end(self, token: str) -> None:
        """Logout: the token and every token of its family stop working."""
        claimed = await self._store.claim(refresh_token_digest(token))
        if claimed is not None:
            await self.revoke(claimed.record.family_id)
