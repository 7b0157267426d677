"""Ending access before a token expires: per-user access versions and revoked token ids.

An access token is checked by signature alone (``security.JwtVerifier``), so on its own it would
carry its role and account state for its whole life. Auth therefore keeps, for every user, an
*access version* and moves it on every change that must end access (role change, deactivation,
password or email change); each token carries the version it was issued with (claim ``ver``).
Sign-out revokes the one token it was sent with by its ``jti``, until that token expires.

Both live in Redis, written by auth and read on every call by every service that has a Redis:
through ``security.CurrentPrincipal`` and ``security.require_role`` (which call ``check``), and
at the gateway in its one round trip per call (``queue_check`` and ``is_current_reply``). A user
without a stored version is at version 0. Orders' background jobs compare their creator's
version with the one they were started under (``version_of``).

Wiring a service: ``state={"access_revocations": AccessRevocations(redis.client)}``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from loguru import logger
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import RedisError

from orderhub_common.errors import STORE_OUTAGE_RETRY_AFTER_S, ServiceUnavailableError
from orderhub_common.security import InvalidTokenError, Principal

# What a Redis that does not answer raises (refused, reset, timed out).
REDIS_FAILURES = (RedisError, OSError, TimeoutError)

_PREFIX = "orderhub:access:"


class AccessRevokedError(InvalidTokenError):
    def __init__(self) -> None:
        super().__init__("this access token was revoked; refresh it or sign in again")


class AccessRevocations:
    def __init__(self, redis: Redis, *, prefix: str = _PREFIX) -> None:
        self._redis = redis
        self._prefix = prefix
        self._outage = False

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

    async def check(self, principal: Principal, *, fail_closed: bool = False) -> None:
        """Raises 401 (``invalid_token``) if the token was revoked.

        Redis not answering: a read (``fail_closed=False``) is let through (fail open; logged
        when the outage starts and ends), as the gateway does with its own check: the token's
        signature and expiry still hold, so a revoked token reads at most until it expires (15
        minutes), whereas failing closed would refuse every signed-in read of every service for
        the whole outage (the fault suite's Redis outage expects them to keep working,
        docs/FAULTS.md). A change (``fail_closed=True``) is refused with 503 instead: a demoted
        admin must not move orders, start exports or rewrite views while nobody can tell.
        """
        try:
            current = await self.is_current(principal)
        except REDIS_FAILURES as exc:
            if not self._outage:
                self._outage = True
                logger.warning(f"redis is not answering, token revocation is not checked: {exc!r}")
            if fail_closed:
                raise ServiceUnavailableError(
                    "whether your access still stands cannot be checked right now; "
                    "try again in a few seconds",
                    headers={"Retry-After": str(STORE_OUTAGE_RETRY_AFTER_S)},
                ) from exc
            return
        if self._outage:
            self._outage = False
            logger.info("redis answers again, token revocation is checked again")
        if not current:
            raise AccessRevokedError()

    async def version_of(self, user_id: str) -> int:
        """The user's current access version (raises what Redis raises when it does not answer)."""
        version = await self._redis.get(self._version_key(user_id))
        return int(version) if version is not None else 0
