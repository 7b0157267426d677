"""One user change at a time, across every auth replica: a lock in Redis.

The store cannot check "at least one active admin remains" and write in one step (FerretDB has
no multi-document transactions), so role and state changes run one after another under this
lock: two admins demoting each other at the same moment are served in turn, and the second sees
the first's change.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.exceptions import LockNotOwnedError

from orderhub_common.errors import ServiceUnavailableError


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
        self._expiry_s = expiry_s
        self._wait_s = wait_s
        self._poll_s = poll_s

    @contextlib.asynccontextmanager
    async def locked(self) -> AsyncIterator[None]:
        """Holds the lock for the block; waits for it up to ``wait_s``, then 503."""
        # One Lock per holding: a Lock keeps its holder's token, and this object is shared by
        # every request the replica serves at once.
        lock = Lock(
            self._redis,
            self._key,
            timeout=self._expiry_s,
            sleep=self._poll_s,
            blocking_timeout=self._wait_s,
            thread_local=False,
        )
        if not await lock.acquire():
            raise ServiceUnavailableError("user changes are busy; try again")
        try:
            yield
        finally:
            # Past its expiry the lock may be another holder's now: it is left to them.
            with contextlib.suppress(LockNotOwnedError):
                await lock.release()
