"""In-memory stand-ins for unit tests (no I/O)."""

from __future__ import annotations

from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError


class FlakyRedis:
    """Just the commands the edge uses, against a dict, with an off switch."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.down = False

    def _check(self) -> None:
        if self.down:
            raise RedisConnectionError("connection refused")

    async def get(self, key: str) -> Any:
        self._check()
        return self.values.get(key)

    async def set(self, key: str, value: str, ex: int) -> None:
        self._check()
        self.values[key] = value

    async def incr(self, key: str) -> int:
        self._check()
        self.values[key] = int(self.values.get(key, 0)) + 1
        return int(self.values[key])

    def register_script(self, _: str) -> Any:
        async def run(keys: list[str], args: list[Any]) -> int:
            return await self.incr(keys[0])

        return run
