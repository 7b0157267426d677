"""Brute-force protection for sign-in that nobody else can turn against a user.

- **Per account and client address**: a few free failures, then each further attempt from that
  address at that account must wait twice as long as the one before (1 s, 2 s, 4 s, ... up to
  ``max_delay_s``). An attempt is counted before the password is checked, so parallel guesses
  cannot slip past the delay; a successful sign-in clears the count. Since the count belongs to
  the pair, failures from anywhere else (a third party guessing) never delay the account's
  owner at their own address.
- **Per client address, on accounts that do not exist**: an address that keeps failing on
  unknown emails (enumeration, credential stuffing) has every further *failure* answered 429
  instead of 401, for the rest of its window, so it learns nothing more from wrong guesses. A
  correct password from that address still signs in: one script behind an office NAT cannot
  lock the office out.

Counters live in Redis (every replica sees the same numbers) and expire on their own.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from redis.asyncio import Redis

from auth.errors import TooManyLoginAttemptsError

# KEYS[1] the pair's hash; ARGV now, free failures, max delay, window.
# Returns 0 (go ahead, counted) or the seconds until the pair may try again (not counted).
_BEGIN_SCRIPT = """
local now = tonumber(ARGV[1])
local free = tonumber(ARGV[2])
local max_delay = tonumber(ARGV[3])
local window = tonumber(ARGV[4])
local failures = tonumber(redis.call('HGET', KEYS[1], 'failures') or '0')
local blocked_until = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
if now < blocked_until then return tostring(blocked_until - now) end
failures = failures + 1
local delay = 0
if failures > free then delay = math.min(max_delay, 2 ^ (failures - free - 1)) end
redis.call('HSET', KEYS[1], 'failures', failures, 'until', now + delay)
redis.call('EXPIRE', KEYS[1], math.ceil(window + delay))
return '0'
"""


class LoginThrottle:
    def __init__(
        self,
        redis: Redis,
        *,
        free_failures_per_client: int,
        max_delay_s: int,
        unknown_account_failures_per_ip: int,
        window_s: int,
        prefix: str = "auth:login-attempts:",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = redis
        self._free = free_failures_per_client
        self._max_delay_s = max_delay_s
        self._unknown_limit = unknown_account_failures_per_ip
        self._window_s = window_s
        self._prefix = prefix
        self._clock = clock
        self._begin = redis.register_script(_BEGIN_SCRIPT)

    def _pair_key(self, email: str, ip: str) -> str:
        return f"{self._prefix}pair:{ip}:{email}"

    def _unknown_key(self, ip: str) -> str:
        return f"{self._prefix}unknown:{ip}"

    async def begin_attempt(self, email: str, ip: str) -> None:
        """Counts one attempt at ``email`` from ``ip``; 429 while that pair must wait."""
        wait = float(
            await self._begin(
                keys=[self._pair_key(email, ip)],
                args=[self._clock(), self._free, self._max_delay_s, self._window_s],
            )
        )
        if wait > 0:
            raise TooManyLoginAttemptsError(max(1, math.ceil(wait)))

    async def succeeded(self, email: str, ip: str) -> None:
        await self._redis.delete(self._pair_key(email, ip))

    async def failed(self, ip: str, *, account_exists: bool) -> None:
        """After a refused sign-in: raises 429 instead of letting the caller hear 401 once its
        address has failed too often on unknown accounts."""
        key = self._unknown_key(ip)
        if account_exists:
            count, ttl = await self._redis.get(key), await self._redis.ttl(key)
        else:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.set(key, 0, ex=self._window_s, nx=True)
                pipe.incr(key)
                pipe.ttl(key)
                _, count, ttl = await pipe.execute()
        if count is not None and int(count) > self._unknown_limit:
            raise TooManyLoginAttemptsError(ttl if ttl and ttl > 0 else self._window_s)
