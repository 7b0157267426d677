"""One user change at a time, across every auth replica: a lock in Redis.

The store cannot check "at least one active admin remains" and write in one step (FerretDB has
no multi-document transactions), so role and state changes run one after another under this
lock: two admins demoting each other at the same moment are served in turn, and the second sees
the first's change.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator

from redis.asyncio import Redis

from orderhub_common.errors import ServiceUnavailableError

# Releases the lock only if this holder still holds it (it may have expired and been taken).
_RELEASE_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class UserChangeLock:
    def __init__(
        self,
        redis: Redis,
        *,
        key: str = "auth:lock:user-changes",
        expiry_s: float = 10.0,
        wait_s: float = 5.0,
        poll_s: float = 0.02,
    ) -> None:
        self._redis = redis
        self._key = key
        self._expiry_ms = int(expiry_s * 1000)
        self._wait_s = wait_s
        self._poll_s = poll_s
        self._release = redis.register_script(_RELEASE_SCRIPT)

    async def acquire(self) -> str:
        """Waits for the lock (up to ``wait_s``, then 503); returns the holder's token."""
        token = secrets.token_hex(16)
        try:
            async with asyncio.timeout(self._wait_s):
                while True:
                    if await self._redis.set(self._key, token, nx=True, px=self._expiry_ms):
                        return token
                    await asyncio.sleep(self._poll_s)
        except TimeoutError:
            raise ServiceUnavailableError("user changes are busy; try again") from None

    async def release(self, token: str) -> None:
        await self._release(keys=[self._key], args=[token])

    @contextlib.asynccontextmanager
    async def locked(self) -> AsyncIterator[None]:
        token = await self.acquire()
        try:
            yield
        finally:
            await self.release(token)
