"""In-memory stand-ins for unit tests (no I/O)."""

from __future__ import annotations

from typing import Any

from redis.asyncio import ConnectionPool
from redis.exceptions import ConnectionError as RedisConnectionError

from gateway.cache.store import LOOK_UP_SHA


def look_up(values: dict[str, Any], keys_and_args: tuple[Any, ...]) -> list[Any]:
    """What the cache's lookup script answers, for an entry-less slot: its version and marks,
    no entry, and the fill lock, which these tests never contend for."""
    numkeys = keys_and_args[0]
    keys, args = keys_and_args[1 : numkeys + 1], keys_and_args[numkeys + 1 :]
    counters = int(args[0])
    version = ".".join(values.get(key) or "0" for key in keys[:counters])
    marks = [int(values.get(key) or 0) for key in keys[counters:-1]] or [0, 0]
    return [version, *marks, "none", 1, None]


class FlakyRedis:
    """Just the commands the edge uses, against a dict, with an off switch."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.down = False
        # What the rate limiter hands to the limits library (which connects only when used).
        self.connection_pool = ConnectionPool()

    def check(self) -> None:
        if self.down:
            raise RedisConnectionError("connection refused")

    async def get(self, key: str) -> Any:
        self.check()
        return self.values.get(key)

    async def mget(self, keys: list[str]) -> list[Any]:
        self.check()
        return [self.values.get(key) for key in keys]

    async def set(self, key: str, value: str, **_: Any) -> bool:
        self.check()
        self.values[key] = value
        return True

    def pipeline(self, transaction: bool = True) -> FlakyPipeline:
        return FlakyPipeline(self)


class FlakyPipeline:
    def __init__(self, redis: FlakyRedis) -> None:
        self._redis = redis
        self._queued: list[tuple[str, tuple[Any, ...]]] = []

    @property
    def command_stack(self) -> list[tuple[str, tuple[Any, ...]]]:
        return self._queued

    async def __aenter__(self) -> FlakyPipeline:
        return self

    async def __aexit__(self, *_: object) -> None:
        self._queued.clear()

    def incr(self, key: str) -> None:
        self._queued.append(("incr", (key,)))

    def expire(self, key: str, seconds: int) -> None:
        self._queued.append(("expire", (key,)))

    def mget(self, keys: list[str]) -> None:
        self._queued.append(("mget", (keys,)))

    def get(self, key: str) -> None:
        self._queued.append(("get", (key,)))

    def set(self, key: str, value: str, **_: Any) -> None:
        self._queued.append(("set", (key, value)))

    def delete(self, key: str) -> None:
        self._queued.append(("delete", (key,)))

    def exists(self, key: str) -> None:
        self._queued.append(("exists", (key,)))

    def evalsha(self, sha: str, *keys_and_args: Any) -> None:
        command = "look_up" if sha == LOOK_UP_SHA else "evalsha"
        self._queued.append((command, keys_and_args))

    def eval(self, script: str, numkeys: int, *keys_and_args: Any) -> None:
        # The one script the edge sends by EVAL: the cache's write mark.
        self._queued.append(("mark_write", keys_and_args[:numkeys]))

    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        self._redis.check()
        values = self._redis.values
        replies: list[Any] = []
        for command, args in self._queued:
            if command == "incr":
                values[args[0]] = str(int(values.get(args[0], 0)) + 1)  # as Redis keeps it
                replies.append(int(values[args[0]]))
            elif command == "mget":
                replies.append([values.get(key) for key in args[0]])
            elif command == "get":
                replies.append(values.get(args[0]))
            elif command == "exists":
                replies.append(int(args[0] in values))
            elif command == "set":
                values[args[0]] = args[1]
                replies.append(True)
            elif command == "delete":
                replies.append(int(values.pop(args[0], None) is not None))
            elif command == "look_up":
                replies.append(look_up(values, args))
            elif command == "mark_write":
                sequence, mark = args
                values[sequence] = str(int(values.get(sequence, 0)) + 1)
                values[mark] = values[sequence]
                replies.append(int(values[sequence]))
            else:
                replies.append(True)
        return replies
