from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints, model_validator

from orderhub_common.events import CamelModel
from orderhub_common.security import Role
from orderhub_common.text import SingleLineText

_EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Characters no address needs and markup or header injection does.
_FORBIDDEN_IN_EMAIL = frozenset("<>\"'`()[]\\,;:")
# A new address is ASCII: the local part an RFC 5321 dot-string (without SMTPUTF8), the domain
# letters, digits and hyphens (an international domain in its "xn--" form). No two such
# addresses can look alike through a Greek or Cyrillic letter, a Latin alpha (U+0251) or a
# dotless i (U+0131): all Latin-script letters, so a script check alone misses them.
_LOCAL_PART = re.compile(r"^[a-z0-9!#$%&*+/=?^_{|}~-]+(\.[a-z0-9!#$%&*+/=?^_{|}~-]+)*$")
_DOMAIN_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN = re.compile(rf"^{_DOMAIN_LABEL}(\.{_DOMAIN_LABEL})+$")

# The most common passwords of 12 characters or more (from public breach lists), and the app's
# own name: refused as new passwords.
COMMON_PASSWORDS = frozenset(
    {
        "123456789012",
        "1234567890123",
        "12345678901234",
        "123456789abc",
        "1q2w3e4r5t6y",
        "1qaz2wsx3edc",
        "abcdefghijkl",
        "administrator",
        "administrator1",
        "changeme1234",
        "iloveyou1234",
        "letmein12345",
        "orderhub1234",
        "orderhubadmin",
        "password1234",
        "password12345",
        "password123456",
        "passwordpassword",
        "qwerty123456",
        "qwertyuiop12",
        "qwertyuiopasdf",
        "welcome12345",
        "welcome123456",
        "zaq12wsxcde3",
    }
)


def _normalized(value: str) -> str:
    # One spelling per address: compatibility forms (full-width letters, ligatures) folded.
    return unicodedata.normalize("NFKC", value)


def _plausible_email(value: str) -> str:
    if any(unicodedata.category(char) in {"Cc", "Cf", "Zl", "Zp"} for char in value):
        raise ValueError("must not contain control or invisible characters")
    if _FORBIDDEN_IN_EMAIL & set(value):
        raise ValueError("must not contain markup or quoting characters")
    if not _EMAIL_SHAPE.match(value):
        raise ValueError("must be an email address")
    local_part, domain = value.split("@")
    if not value.isascii():
        raise ValueError(
            "must be written in ASCII letters, digits and punctuation (look-alike letters of "
            "other alphabets are refused); give an international domain in its xn-- form"
        )
    if not _LOCAL_PART.match(local_part) or len(local_part) > 64:
        raise ValueError("must have a plain local part (before the @)")
    if not _DOMAIN.match(domain):
        raise ValueError("must have a domain of letters, digits, hyphens and dots")
    return value


def _not_common(value: str) -> str:
    if value.lower() in COMMON_PASSWORDS or len(set(value)) < 5:
        raise ValueError("is too common or too simple; choose another password")
    return value


# Stored and compared lowercased, so sign-in and uniqueness ignore case.
LoginEmail = Annotated[
    str,
    BeforeValidator(lambda value: _normalized(value) if isinstance(value, str) else value),
    StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=254),
]
# The rules for a new address (invites and changes); users created before them keep signing in
# with theirs, since sign-in only normalizes.
NewEmail = Annotated[LoginEmail, AfterValidator(_plausible_email)]
# Argon2 cost grows with input, so sign-in refuses absurdly long passwords outright.
LoginPassword = Annotated[str, Field(min_length=1, max_length=1024)]
NewPassword = Annotated[str, Field(min_length=12, max_length=256), AfterValidator(_not_common)]
RefreshTokenText = Annotated[str, Field(min_length=1, max_length=512)]


class LoginRequest(CamelModel):
    email: LoginEmail
    password: LoginPassword


class RefreshRequest(CamelModel):
    """API clients send the refresh token here; the SPA leaves it out and its session cookie
    (with the ``X-CSRF-Token`` header) stands in for it."""

    refresh_token: RefreshTokenText | None = None


# How a person is named on screen: one line, not blank.
def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value.strip()


DisplayName = Annotated[SingleLineText, Field(max_length=80), AfterValidator(_not_blank)]


class UserSummary(CamelModel):
    id: str
    email: str
    role: Role
    display_name: str
    """How the user is named wherever a person is shown; their email until an admin names them."""


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
    expires_in: int


class MeResponse(CamelModel):
    user: UserSummary


class UserCreate(CamelModel):
    email: NewEmail
    password: NewPassword
    role: Role
    display_name: DisplayName | None = None


class UserName(CamelModel):
    """A person as everyone signed in may see them named (``GET /users/names``)."""

    id: str
    display_name: str


class UserNames(CamelModel):
    users: list[UserName]


class UserUpdate(CamelModel):
    email: NewEmail | None = None
    password: NewPassword | None = None
    role: Role | None = None
    active: bool | None = None
    display_name: DisplayName | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> UserUpdate:
        if not self.model_fields_set:
            raise ValueError("give at least one of email, password, role, active, displayName")
        for name in self.model_fields_set:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class UserEnvelope(CamelModel):
    user: UserRead


class UserList(CamelModel):
    users: list[UserRead]
