"""Refresh-token families: every refresh swaps the token for a new one in the same family.

A refresh token works once. Presenting one that was already used means it leaked (either the
thief or the user now holds a stale copy), so the whole family is revoked: the newer token dies
too, and the user signs in again. The records live in a ``RefreshTokenStore``: in Redis with
TTLs (``repository.RedisRefreshTokenStore``), so nothing needs cleaning up.
"""

from __future__ import annotations

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
