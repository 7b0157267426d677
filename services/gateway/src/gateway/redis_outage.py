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


class Reply:
    """The replies of what one ``EdgePipeline.queue`` call queued, readable once it was sent."""

    def __init__(self, pipeline: EdgePipeline, start: int, stop: int) -> None:
        self._pipeline = pipeline
        self._start = start
        self._stop = stop

    @property
    def values(self) -> list[Any]:
        """The replies of each command queued, in the order they were queued."""
        return self._pipeline.replies[self._start : self._stop]

    @property
    def value(self) -> Any:
        """The reply of the one command queued."""
        (value,) = self.values
        return value


class EdgePipeline:
    """A request's one pipeline, where each check queues its commands and keeps a ``Reply``.

    The only place a reply's position in the pipeline exists: adding a check never shifts
    another's.
    """

    def __init__(self, pipe: Pipeline) -> None:
        self._pipe = pipe
        self._replies: list[Any] | None = None

    def queue(self, commands: Callable[[Pipeline], object]) -> Reply:
        """Runs ``commands`` on the pipeline (any number of them); their replies are the
        ``Reply``'s."""
        start = len(self._pipe.command_stack)
        commands(self._pipe)
        return Reply(self, start, len(self._pipe.command_stack))

    @property
    def replies(self) -> list[Any]:
        if self._replies is None:
            raise RuntimeError("the pipeline was not sent yet")
        return self._replies

    async def execute(self) -> list[Any]:
        self._replies = await self._pipe.execute(raise_on_error=False)
        return self._replies


async def one_round_trip(
    redis: Redis, queue: Callable[[EdgePipeline], Handles], scripts: Sequence[bytes | str]
) -> Handles:
    """Sends what ``queue`` puts in a pipeline at once and returns its handles, whose
    ``Reply``s read their own replies.

    Scripts run by hash (``EVALSHA``); redis-py's own pipeline scripts would ask Redis whether
    they exist on every call, a second round trip. A Redis that lost them (restarted) gets
    ``scripts`` loaded and the pipeline once more. Raises the first failed command's error.
    """
    for _ in range(2):
        pipeline = EdgePipeline(redis.pipeline(transaction=False))
        handles = queue(pipeline)
        replies = await pipeline.execute()
        if not any(isinstance(reply, NoScriptError) for reply in replies):
            break
        for script in scripts:
            await redis.script_load(script)
    for reply in replies:
        if isinstance(reply, Exception):
            raise reply
    return handles
