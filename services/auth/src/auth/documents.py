from __future__ import annotations

from datetime import datetime

from beanie import Document
from pymongo import ASCENDING, IndexModel

from orderhub_common.security import Role


class UserDocument(Document):
    email: str  # stored lowercased: the unique index is then case-insensitive
    password_hash: str
    role: Role
    # How the user is named wherever a person is shown (history, notes, audit); none: the email.
    display_name: str | None = None
    active: bool = True
    # Moves on every change that must end the user's access (role, deactivation, password,
    # email): tokens and refresh tokens issued at an older version stop working.
    access_version: int = 0
    created_at: datetime
    updated_at: datetime

    class Settings:
        name = "users"
        indexes = [IndexModel([("email", ASCENDING)], unique=True, name="email_unique")]
