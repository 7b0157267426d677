from __future__ import annotations

from typing import Any

import pytest
from redis.asyncio import Redis

from auth.errors import TooManyLoginAttemptsError
from auth.throttle import LoginThrottle
from orderhub_common.context import new_id

from .conftest import AUTH_REDIS_DB

pytestmark = pytest.mark.integration


async def test_each_failure_past_the_free_ones_doubles_the_wait_up_to_the_cap(infra: Any) -> None:
    redis = Redis.from_url(infra.redis_db(AUTH_REDIS_DB), decode_responses=True)
    now = [1_000_000.0]
    throttle = LoginThrottle(
        redis,
        free_failures_per_client=3,
        max_delay_s=8,
        unknown_account_failures_per_ip=20,
        window_s=900,
        prefix=f"test-{new_id()}:",
        clock=lambda: now[0],
    )
    waits = []
    for _ in range(9):  # nine failed attempts in a row, each as soon as it is let through
        try:
            await throttle.begin_attempt("someone@orderhub.local", "10.0.0.1")
        except TooManyLoginAttemptsError as refused:
            wait = int((refused.headers or {})["Retry-After"])
            waits.append(wait)
            now[0] += wait
            await throttle.begin_attempt("someone@orderhub.local", "10.0.0.1")
        else:
            waits.append(0)
    # Another address at the same account is not held up at all.
    await throttle.begin_attempt("someone@orderhub.local", "10.0.0.2")
    await redis.aclose()

    assert waits == [0, 0, 0, 0, 1, 2, 4, 8, 8]
