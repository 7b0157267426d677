"""Redis outages at the edge: logged once when they start and once when they end.

Rate limiting and caching fail open, so a Redis outage never takes the API down; this keeps the
log readable while it lasts, instead of one warning per request.
"""

from __future__ import annotations

from loguru import logger
from redis.exceptions import RedisError

REDIS_FAILURES = (RedisError, OSError, TimeoutError)


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
