"""Brute-force protection for sign-in: a budget of attempts per account and per client address.

Each attempt is counted before the password is checked, so parallel guesses cannot slip past
the limit; a successful sign-in gives its attempt back. Counters live in Redis for one window
from the first attempt, so every replica sees the same numbers.
"""

from __future__ import annotations

from redis.asyncio import Redis

from auth.errors import TooManyLoginAttemptsError

# Gives an attempt back only while its window lasts: a DECR on an expired key would recreate it
# without a TTL.
_GIVE_BACK_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('DECR', KEYS[1]) end
"""


class LoginThrottle:
    def __init__(
        self,
        redis: Redis,
        *,
        max_failures_per_account: int,
        max_failures_per_ip: int,
        window_s: int,
        prefix: str = "auth:login-attempts:",
    ) -> None:
        self._redis = redis
        self._limits = {"account": max_failures_per_account, "ip": max_failures_per_ip}
        self._window_s = window_s
        self._prefix = prefix
        self._give_back = redis.register_script(_GIVE_BACK_SCRIPT)

    def _keys(self, email: str, ip: str) -> dict[str, str]:
        return {"account": f"{self._prefix}account:{email}", "ip": f"{self._prefix}ip:{ip}"}

    async def begin_attempt(self, email: str, ip: str) -> None:
        """Counts one attempt; raises 429 when the account or address is out of attempts."""
        keys = self._keys(email, ip)
        async with self._redis.pipeline(transaction=True) as pipe:
            for key in keys.values():
                pipe.set(key, 0, ex=self._window_s, nx=True)
                pipe.incr(key)
                pipe.ttl(key)
            results = await pipe.execute()
        retry_after = [
            ttl if ttl > 0 else self._window_s
            for scope, count, ttl in zip(keys, results[1::3], results[2::3], strict=True)
            if count > self._limits[scope]
        ]
        if retry_after:
            raise TooManyLoginAttemptsError(max(retry_after))

    async def succeeded(self, email: str, ip: str) -> None:
        keys = self._keys(email, ip)
        await self._redis.delete(keys["account"])
        await self._give_back(keys=[keys["ip"]])
