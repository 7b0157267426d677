"""One active poller per channel across replicas: a lease in Redis, held by renewing it.

The holder renews well within the TTL; if it dies, the lease expires and another replica takes
over. Writes that must come only from the holder (the cursor) are fenced on the lease.
"""

from __future__ import annotations

from redis.asyncio import Redis

# Take the lease if free, renew it if ours (the atomic form of SET NX PX plus renewal).
_TAKE_OR_RENEW = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""
# Writes KEYS[2] only while ARGV[1] holds the lease KEYS[1].
_FENCED_SET = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[2])
  return 1
end
return 0
"""


class ChannelLease:
    def __init__(self, redis: Redis, key: str, owner: str, ttl_s: float) -> None:
        self.redis = redis
        self.key = key
        self.owner = owner
        self.ttl_ms = max(1, int(ttl_s * 1000))

    async def take_or_renew(self) -> bool:
        """Takes the lease if it is free, renews it if it is ours; False while another poller
        holds it."""
        held = await self.redis.eval(_TAKE_OR_RENEW, 1, self.key, self.owner, self.ttl_ms)
        return bool(held)

    async def release(self) -> None:
        await self.redis.eval(_RELEASE, 1, self.key, self.owner)

    async def set_if_held(self, key: str, value: str) -> bool:
        written = await self.redis.eval(_FENCED_SET, 2, self.key, key, self.owner, value)
        return bool(written)
