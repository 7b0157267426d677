"""The only module that touches the stores: users and generated keys in MongoDB, refresh tokens
in Redis."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from beanie import PydanticObjectId
from bson.errors import InvalidId
from pymongo.errors import DuplicateKeyError, OperationFailure
from redis.asyncio import Redis

from auth.documents import UserDocument
from auth.errors import EmailTakenError
from auth.sessions import ClaimedRefreshToken, RefreshTokenRecord
from orderhub_common.logging import utc_now
from orderhub_common.security import Role


def _stored_now() -> datetime:
    """Now, at the millisecond precision MongoDB keeps, so a write answers what a read will."""
    now = utc_now()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class UserRepository:
    async def by_id(self, user_id: str) -> UserDocument | None:
        try:
            object_id = PydanticObjectId(user_id)
        except (InvalidId, TypeError):
            return None
        return await UserDocument.get(object_id)

    async def by_email(self, email: str) -> UserDocument | None:
        return await UserDocument.find_one(UserDocument.email == email)

    async def all(self) -> list[UserDocument]:
        return await UserDocument.find_all().sort("email").to_list()

    async def active_admin_ids(self) -> set[str]:
        """Users are few (people, not orders): a scan of them is cheap on any store."""
        return {
            str(user.id) for user in await self.all() if user.active and user.role == Role.ADMIN
        }

    async def create(
        self, *, email: str, password_hash: str, role: Role, display_name: str | None = None
    ) -> UserDocument:
        now = _stored_now()
        user = UserDocument(
            email=email,
            password_hash=password_hash,
            role=role,
            display_name=display_name,
            created_at=now,
            updated_at=now,
        )
        try:
            await user.insert()
        except DuplicateKeyError:
            raise EmailTakenError(email) from None
        return user

    async def update(self, user: UserDocument, changes: dict[str, Any]) -> UserDocument:
        for name, value in changes.items():
            setattr(user, name, value)
        user.updated_at = _stored_now()
        try:
            await user.save()
        except DuplicateKeyError:
            raise EmailTakenError(user.email) from None
        except OperationFailure as exc:
            # FerretDB on SQLite reports a unique index violated by an update as a plain failure.
            if "UNIQUE constraint failed" in str(exc):
                raise EmailTakenError(user.email) from None
            raise
        return user


_FIELDS = ("user", "family", "version", "started")

# Returns the token's fields as they were before this claim, and marks it used.
_CLAIM_SCRIPT = """
local record = redis.call('HMGET', KEYS[1], 'user', 'family', 'version', 'started', 'state')
if not record[1] then return false end
if record[5] == 'active' then redis.call('HSET', KEYS[1], 'state', 'used') end
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
            pipe.hset(
                key,
                mapping={
                    "user": record.user_id,
                    "family": record.family_id,
                    "version": record.access_version,
                    "started": record.started_at,
                },
            )
            pipe.hset(key, "state", "active")
            pipe.expire(key, ttl_s)
            await pipe.execute()

    async def claim(self, digest: str) -> ClaimedRefreshToken | None:
        found = await self._claim(keys=[self._token_key(digest)])
        if not found:
            return None
        *fields, state = found
        return ClaimedRefreshToken(record=_record(fields), used_before=state != "active")

    async def peek(self, digest: str) -> RefreshTokenRecord | None:
        fields = await self._redis.hmget(self._token_key(digest), list(_FIELDS))
        return _record(fields) if fields[0] is not None else None

    async def revoke_family(self, family_id: str, ttl_s: int) -> None:
        await self._redis.set(self._revoked_key(family_id), "1", ex=ttl_s)

    async def is_family_revoked(self, family_id: str) -> bool:
        return bool(await self._redis.exists(self._revoked_key(family_id)))


def _record(fields: list[Any]) -> RefreshTokenRecord:
    user_id, family_id, version, started = fields
    return RefreshTokenRecord(
        user_id=user_id,
        family_id=family_id,
        access_version=int(version or 0),
        started_at=int(started or 0),
    )
