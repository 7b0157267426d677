from __future__ import annotations

from datetime import datetime
from typing import Any

from beanie import Document
from pymongo import ASCENDING, IndexModel

from orderhub_common.security import Role


class UserDocument(Document):
    email: str  # stored lowercased: the unique index is then case-insensitive
    password_hash: str
    role: Role
    active: bool = True
    created_at: datetime
    updated_at: datetime

    class Settings:
        name = "users"
        indexes = [IndexModel([("email", ASCENDING)], unique=True, name="email_unique")]


class GeneratedSigningKeyDocument(Document):
    """The development signing key, shared by every replica (never used in production)."""

    purpose: str
    jwk: dict[str, Any]
    created_at: datetime

    class Settings:
        name = "generated_signing_keys"
        indexes = [IndexModel([("purpose", ASCENDING)], unique=True, name="purpose_unique")]
