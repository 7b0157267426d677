"""Access tokens verified recently, kept by hash, so a caller's next requests skip the signature.

A token is trusted from here for at most ``GATEWAY_VERIFIED_TOKEN_CACHE_TTL_S`` and never past its
own expiry; a token that failed verification is never kept. The raw token is not kept either,
only its SHA-256. The table holds at most ``GATEWAY_VERIFIED_TOKEN_CACHE_SIZE`` tokens, the
oldest dropped first.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

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
        self._ttl_s = ttl_s
        self._max_size = max_size
        self._clock = clock
        self._trusted: dict[bytes, tuple[float, Principal]] = {}

    def known(self, token: str) -> Principal | None:
        """The token's principal if it was verified recently; None means: verify it."""
        digest = hashlib.sha256(token.encode()).digest()
        entry = self._trusted.get(digest)
        if entry is None:
            return None
        trusted_until, principal = entry
        if self._clock() >= trusted_until:
            del self._trusted[digest]
            return None
        return principal

    async def verify(self, token: str) -> Principal:
        """Verifies the token (raising as ``JwtVerifier.verify`` does) and remembers it."""
        principal = self.known(token)
        if principal is not None:
            return principal
        principal = await self._verifier.verify(token)
        if self._ttl_s > 0:
            trusted_until = min(self._clock() + self._ttl_s, principal.expires_at.timestamp())
            if len(self._trusted) >= self._max_size:
                del self._trusted[next(iter(self._trusted))]
            self._trusted[hashlib.sha256(token.encode()).digest()] = (trusted_until, principal)
        return principal
