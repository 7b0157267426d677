"""Access tokens (signed JWTs) and refresh tokens (opaque, rotated, grouped in families)."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from joserfc import jwt

from auth.keys import SigningKeys
from orderhub_common.context import new_id
from orderhub_common.security import JwtAlgorithm, Role


@dataclass(frozen=True)
class AccessToken:
    token: str
    expires_in: int


class AccessTokenIssuer:
    def __init__(
        self,
        keys: Callable[[], SigningKeys],
        *,
        algorithm: JwtAlgorithm,
        issuer: str,
        audience: str,
        ttl_s: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._keys = keys
        self._algorithm = algorithm
        self._issuer = issuer
        self._audience = audience
        self._ttl_s = ttl_s
        self._clock = clock

    def issue(
        self, user_id: str, role: Role, email: str | None = None, *, access_version: int = 0
    ) -> AccessToken:
        """A signed access token; ``email`` lets services name the person (history entries),
        ``access_version`` is the user's (``orderhub_common.revocation``)."""
        keys = self._keys()
        now = int(self._clock())
        claims: dict[str, object] = {
            "sub": user_id,
            "role": role.value,
            "iss": self._issuer,
            "aud": self._audience,
            "iat": now,
            "exp": now + self._ttl_s,
            "jti": new_id(),
            "ver": access_version,
        }
        if email:
            claims["email"] = email
        header = {"alg": self._algorithm, "kid": keys.active_kid}
        token = jwt.encode(header, claims, keys.active, algorithms=[self._algorithm])
        return AccessToken(token=token, expires_in=self._ttl_s)


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def refresh_token_digest(token: str) -> str:
    """Only digests are stored, so a read of the store yields no usable refresh token."""
    return hashlib.sha256(token.encode()).hexdigest()
