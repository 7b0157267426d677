"""One computation per key at a time in this process; every caller of the key shares its result.

Hundreds of concurrent misses of one cache entry become one call to the service behind it.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from loguru import logger

from orderhub_common.errors import DomainError

T = TypeVar("T")


@dataclass
class _Flight(Generic[T]):
    task: asyncio.Task[T]
    waiters: int = 0
    detached: bool = False
    """Started for nobody in particular (a background refresh): it runs to its end."""


class SingleFlight(Generic[T]):
    def __init__(self) -> None:
        self._flights: dict[str, _Flight[T]] = {}

    async def run(self, key: str, compute: Callable[[], Awaitable[T]]) -> T:
        """The result (or error) of ``compute()`` for ``key``: started now, or joined.

        A caller that is cancelled (its client went away) stops waiting; the computation itself
        is cancelled only once no caller waits for it any more.
        """
        flight = self._flight(key, compute)
        flight.waiters += 1
        try:
            return await asyncio.shield(flight.task)
        finally:
            flight.waiters -= 1
            if flight.waiters == 0 and not flight.detached and not flight.task.done():
                flight.task.cancel()

    def start(self, key: str, compute: Callable[[], Awaitable[T]]) -> None:
        """Runs ``compute()`` for ``key`` in the background, unless it already runs."""
        self._flight(key, compute).detached = True

    async def close(self) -> None:
        tasks = [flight.task for flight in self._flights.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _flight(self, key: str, compute: Callable[[], Awaitable[T]]) -> _Flight[T]:
        flight = self._flights.get(key)
        # A flight being cancelled (its last caller left) is not joined: it would fail the joiner.
        if flight is None or flight.task.done() or flight.task.cancelling():
            flight = _Flight(asyncio.ensure_future(compute()))
            self._flights[key] = flight
            flight.task.add_done_callback(functools.partial(self._landed, key, flight))
        return flight

    def _landed(self, key: str, flight: _Flight[T], task: asyncio.Task[T]) -> None:
        if self._flights.get(key) is flight:
            del self._flights[key]
        if task.cancelled():
            return
        error = task.exception()  # retrieved here, so a flight nobody awaited never warns
        if error is not None and flight.detached and not isinstance(error, DomainError):
            logger.opt(exception=error).warning(f"a background cache refresh failed: {error!r}")
