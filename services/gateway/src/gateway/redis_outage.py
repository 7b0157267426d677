"""Redis at the edge: one round trip per request, and outages logged once when they start and end.

Rate limiting and caching fail open, so a Redis outage never takes the API down; the outage log
keeps the log readable while it lasts, instead of one warning per request.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from loguru import logger
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import NoScriptError, RedisError

from orderhub_common.resources import RedisResource, redis_connection_options

REDIS_FAILURES = (RedisError, OSError, TimeoutError)

Handles = TypeVar("Handles")


class EdgeRedis(RedisResource):
    """The gateway's Redis, whose pool waits (up to ``timeout_s``) for a free connection.

    redis-py's default pool fails at once when all its connections are busy: under a burst that
    turned rate limits off and cache hits into misses, a stampede on the services.
    """

    def __init__(self, url: str, *, max_connections: int, timeout_s: float = 2) -> None:
        pool = BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=timeout_s,
            **redis_connection_options(timeout_s),
        )
        self.client = Redis.from_pool(pool)


class RedisOutage:
    def __init__(self, purpose: str) -> None:
        self.purpose = purpose
        self.ongoing = False

    def failed(self, exc: BaseException) -> None:
        if not self.ongoing:
            self.ongoing = True
            logger.warning(f"redis is not answering, {self.purpose} is bypassed: {exc!r}")

    def answered(self) -> None:
        if self.ongoing:
            self.ongoing = False
            logger.info(f"redis answers again, {self.purpose} is back")


async def one_round_trip(
    redis: Redis, queue: Callable[[Pipeline], Handles], scripts: Sequence[bytes | str]
) -> tuple[Handles, list[Any]]:
    """Sends what ``queue`` puts in a pipeline at once and returns its handles and the replies.

    Scripts run by hash (``EVALSHA``); redis-py's own pipeline scripts would ask Redis whether
    they exist on every call, a second round trip. A Redis that lost them (restarted) gets
    ``scripts`` loaded and the pipeline once more. Raises the first failed command's error.
    """
    for _ in range(2):
        pipe = redis.pipeline(transaction=False)
        handles = queue(pipe)
        replies: list[Any] = await pipe.execute(raise_on_error=False)
        if not any(isinstance(reply, NoScriptError) for reply in replies):
            break
        for script in scripts:
            await redis.script_load(script)
    for reply in replies:
        if isinstance(reply, Exception):
            raise reply
    return handles, replies
