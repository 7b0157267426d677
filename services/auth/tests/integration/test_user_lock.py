from __future__ import annotations

import asyncio
from typing import Any

import pytest
from redis.asyncio import Redis

from auth.user_lock import UserChangeLock
from orderhub_common.context import new_id
from orderhub_common.errors import ServiceUnavailableError

from .conftest import AUTH_REDIS_DB

pytestmark = pytest.mark.integration


async def test_changes_under_the_lock_run_one_after_another(infra: Any) -> None:
    # As the services' Redis user: the lock's commands and scripts are on its allow-list.
    redis = Redis.from_url(infra.redis_db(AUTH_REDIS_DB), decode_responses=True)
    lock = UserChangeLock(redis, key=f"test-{new_id()}:lock")
    inside = 0
    most_inside = 0

    async def change() -> None:
        nonlocal inside, most_inside
        async with lock.locked():
            inside += 1
            most_inside = max(most_inside, inside)
            await asyncio.sleep(0.05)
            inside -= 1

    await asyncio.gather(*(change() for _ in range(4)))
    async with lock.locked():  # and free again afterwards
        pass
    await redis.aclose()

    assert most_inside == 1


async def test_a_change_that_waits_too_long_is_refused_with_503(infra: Any) -> None:
    redis = Redis.from_url(infra.redis_db(AUTH_REDIS_DB), decode_responses=True)
    key = f"test-{new_id()}:lock"
    holder = UserChangeLock(redis, key=key)
    waiter = UserChangeLock(redis, key=key, wait_s=0.2)
    async with holder.locked():
        with pytest.raises(ServiceUnavailableError):
            async with waiter.locked():
                pass
    await redis.aclose()


async def test_a_holder_past_its_expiry_leaves_the_next_holders_lock_alone(infra: Any) -> None:
    redis = Redis.from_url(infra.redis_db(AUTH_REDIS_DB), decode_responses=True)
    key = f"test-{new_id()}:lock"
    slow = UserChangeLock(redis, key=key, expiry_s=0.1)
    async with slow.locked():
        await asyncio.sleep(0.3)  # the lock expires; someone else takes it
        assert await redis.set(key, "next-holder", nx=True, px=10_000)
    still_held = await redis.get(key)
    await redis.aclose()

    assert still_held == "next-holder"
