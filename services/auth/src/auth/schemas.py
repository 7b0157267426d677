from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from orderhub_common.events import CamelModel
from orderhub_common.security import Role

_EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+$")


def _plausible_email(value: str) -> str:
    if not _EMAIL_SHAPE.match(value):
        raise ValueError("must be an email address")
    return value


# Stored and compared lowercased, so sign-in and uniqueness ignore case.
LoginEmail = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=254)
]
NewEmail = Annotated[LoginEmail, AfterValidator(_plausible_email)]
# Argon2 cost grows with input, so sign-in refuses absurdly long passwords outright.
LoginPassword = Annotated[str, Field(min_length=1, max_length=1024)]
NewPassword = Annotated[str, Field(min_length=12, max_length=256)]
RefreshTokenText = Annotated[str, Field(min_length=1, max_length=512)]


class LoginRequest(CamelModel):
    email: LoginEmail
    password: LoginPassword


class RefreshRequest(CamelModel):
    refresh_token: RefreshTokenText


class UserSummary(CamelModel):
    id: str
    email: str
    role: Role


class UserRead(UserSummary):
    active: bool
    created_at: datetime
    updated_at: datetime


class LoginResponse(CamelModel):
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 (a scheme name, not a secret)
    expires_in: int
    user: UserSummary


class RefreshResponse(CamelModel):
    access_token: str
    refresh_token: str


class MeResponse(CamelModel):
    user: UserSummary


class UserCreate(CamelModel):
    email: NewEmail
    password: NewPassword
    role: Role


class UserUpdate(CamelModel):
    email: NewEmail | None = None
    password: NewPassword | None = None
    role: Role | None = None
    active: bool | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> UserUpdate:
        if not self.model_fields_set:
            raise ValueError("give at least one of email, password, role, active")
        for name in self.model_fields_set:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class UserEnvelope(CamelModel):
    user: UserRead


class UserList(CamelModel):
    users: list[UserRead]
