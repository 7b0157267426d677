"""The only module that touches MongoDB."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from beanie import PydanticObjectId
from bson.errors import InvalidId
from pymongo.errors import DuplicateKeyError

from auth.documents import GeneratedSigningKeyDocument, UserDocument
from auth.errors import EmailTakenError
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

    async def create(self, *, email: str, password_hash: str, role: Role) -> UserDocument:
        now = _stored_now()
        user = UserDocument(
            email=email, password_hash=password_hash, role=role, created_at=now, updated_at=now
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
        return user


class GeneratedSigningKeyRepository:
    async def get_or_create(self, algorithm: str, candidate: dict[str, Any]) -> dict[str, Any]:
        """The stored key for ``algorithm``; ``candidate`` if none was stored (first one wins)."""
        purpose = f"development-{algorithm}"
        stored = await self._find(purpose)
        if stored is not None:
            return stored.jwk
        try:
            await GeneratedSigningKeyDocument(
                purpose=purpose, jwk=candidate, created_at=utc_now()
            ).insert()
        except DuplicateKeyError:
            stored = await self._find(purpose)
            assert stored is not None
            return stored.jwk
        return candidate

    async def _find(self, purpose: str) -> GeneratedSigningKeyDocument | None:
        return await GeneratedSigningKeyDocument.find_one(
            GeneratedSigningKeyDocument.purpose == purpose
        )
