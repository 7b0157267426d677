"""Access tokens verified recently, kept by hash, so a caller's next requests skip the signature.

A token is trusted from here for at most ``ttl_s`` (the service's
``<SERVICE>_VERIFIED_TOKEN_CACHE_TTL_S``) and never past its own expiry; a token that failed
verification is never kept. The raw token is not kept either, only its SHA-256. The table holds
at most ``max_size`` tokens (``<SERVICE>_VERIFIED_TOKEN_CACHE_SIZE``): when it is full, expired
ones go first, then the one used least recently. Whether a token was revoked is no part of this:
each service asks that on every call (``orderhub_common.revocation``).

The gateway and orders verify through one: each of their calls carries a token, and checking an
Ed25519 signature with joserfc took about 90 us of CPU a call, a twentieth of orders' whole work
for a list page.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

from cachetools import TLRUCache

from orderhub_common.security import JwtVerifier, Principal


class VerifiedTokens:
    """A ``JwtVerifier`` with a memory (it stands in for one on ``app.state.jwt_verifier``)."""

    def __init__(
        self,
        verifier: JwtVerifier,
        *,
        ttl_s: float,
        max_size: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._verifier = verifier

        def trusted_until(_digest: bytes, principal: Principal, now: float) -> float:
            return min(now + ttl_s, principal.expires_at.timestamp())

        self._trusted: TLRUCache[bytes, Principal] = TLRUCache(
            maxsize=max_size, ttu=trusted_until, timer=clock
        )

    def known(self, token: str) -> Principal | None:
        """The token's principal if it was verified recently; None means: verify it."""
        return self._trusted.get(hashlib.sha256(token.encode()).digest())

    async def verify(self, token: str) -> Principal:
        """Verifies the token (raising as ``JwtVerifier.verify`` does) and remembers it."""
        principal = self.known(token)
        if principal is not None:
            return principal
        principal = await self._verifier.verify(token)
        # A time to use that has already passed (a TTL of 0) keeps nothing.
        self._trusted[hashlib.sha256(token.encode()).digest()] = principal
        return principal
