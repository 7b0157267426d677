"""Ending access before a token expires: per-user access versions and revoked token ids.

An access token is checked by signature alone (``security.JwtVerifier``), so on its own it would
carry its role and account state for its whole life. Auth therefore keeps, for every user, an
*access version* and moves it on every change that must end access (role change, deactivation,
password or email change); each token carries the version it was issued with (claim ``ver``).
Sign-out revokes the one token it was sent with by its ``jti``, until that token expires.

Both live in Redis, written by auth and read by every verifier: the gateway on every call (in
its one round trip per call) and the services on their state-changing routes
(``require_current_role``). A user without a stored version is at version 0.

Wiring a service: ``state={"access_revocations": AccessRevocations(redis.client)}``, then
``Depends(require_current_role(Role.ADMIN))`` on its writes.
"""

# No "from __future__ import annotations": FastAPI must see the local dependency below.

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from starlette.requests import HTTPConnection

from orderhub_common.security import InvalidTokenError, Principal, Role, require_role

_PREFIX = "orderhub:access:"


class AccessRevokedError(InvalidTokenError):
    def __init__(self) -> None:
        super().__init__("this access token was revoked; refresh it or sign in again")


class AccessRevocations:
    def __init__(self, redis: Redis, *, prefix: str = _PREFIX) -> None:
        self._redis = redis
        self._prefix = prefix

    def _version_key(self, user_id: str) -> str:
        return f"{self._prefix}version:{user_id}"

    def _revoked_key(self, jti: str) -> str:
        return f"{self._prefix}revoked:{jti}"

    # Auth's side -------------------------------------------------------------------------------
    async def publish_version(self, user_id: str, version: int) -> None:
        """Makes ``version`` the user's current one (auth's record stays the source of truth:
        it is published again at every sign-in and refresh)."""
        await self._redis.set(self._version_key(user_id), str(version))

    async def revoke_token(self, principal: Principal) -> None:
        """Ends one access token (sign-out) until it would have expired anyway."""
        ttl_s = int((principal.expires_at - datetime.now(UTC)).total_seconds()) + 1
        if ttl_s > 0:
            await self._redis.set(self._revoked_key(principal.jti), "1", ex=ttl_s)

    # Every verifier's side ---------------------------------------------------------------------
    def queue_check(self, pipe: Pipeline, principal: Principal) -> None:
        """Queues the two reads ``is_current_reply`` decides on (for a caller's own pipeline)."""
        pipe.get(self._version_key(principal.user_id))
        pipe.exists(self._revoked_key(principal.jti))

    @staticmethod
    def is_current_reply(principal: Principal, version: Any, revoked: Any) -> bool:
        current = int(version) if version is not None else 0
        return current == principal.token_version and not revoked

    async def is_current(self, principal: Principal) -> bool:
        """Whether the token still stands: the user's version is the token's, and it was not
        signed out."""
        async with self._redis.pipeline(transaction=False) as pipe:
            self.queue_check(pipe, principal)
            version, revoked = await pipe.execute()
        return self.is_current_reply(principal, version, revoked)

    async def current_version(self, user_id: str) -> int:
        """The user's access version now: what a credential issued at an older one (a signed
        export link) no longer grants."""
        version = await self._redis.get(self._version_key(user_id))
        return int(version) if version is not None else 0

    async def check(self, principal: Principal) -> None:
        """Raises 401 (``invalid_token``) if the token was revoked."""
        if not await self.is_current(principal):
            raise AccessRevokedError()


def require_current_role(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """``require_role``, and the token must not have been revoked (checked in Redis on every
    call): for routes where a demoted, deactivated or signed-out user must be stopped at once."""
    with_role = require_role(*roles)

    async def current_principal_with_role(
        connection: HTTPConnection, principal: Annotated[Principal, Depends(with_role)]
    ) -> Principal:
        revocations: AccessRevocations = connection.app.state.access_revocations
        await revocations.check(principal)
        return principal

    return current_principal_with_role
