"""The loop every background worker runs: a round, then more at once while there is work,
else a wait for a wake-up or the interval, whatever a round raised."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import NoReturn

from loguru import logger


def _log_failure(name: str) -> Callable[[Exception], None]:
    def log(exc: Exception) -> None:
        logger.warning(f"{name} round failed: {exc!r}")

    return log


async def run_rounds(
    round_: Callable[[], Awaitable[bool]],
    *,
    name: str,
    interval_s: float,
    wake: asyncio.Event | None = None,
    on_error: Callable[[Exception], None] | None = None,
) -> NoReturn:
    """Runs ``round_`` until cancelled. A round returns whether there may be more work: then
    the next starts at once; otherwise the loop waits ``interval_s``, or less once ``wake`` is
    set. A round that raised is logged (``on_error``, by default a warning naming ``name``) and
    counts as one without more work: a store or broker away is retried at the next round."""
    log_failure = on_error or _log_failure(name)
    while True:
        if wake is not None:
            wake.clear()  # a wake-up during the round is seen by the wait after it
        more = False
        try:
            more = await round_()
        except Exception as exc:
            log_failure(exc)
        _raise_if_cancelled()
        if more:
            continue
        if wake is None:
            await asyncio.sleep(interval_s)
            continue
        try:
            async with asyncio.timeout(interval_s):
                await wake.wait()
        except TimeoutError:
            pass


async def run_probe(
    measure: Callable[[], Awaitable[object]], *, what: str, interval_s: float
) -> NoReturn:
    """Measures every ``interval_s``; a measurement that failed is logged at debug level only
    (a store away has its own alert; the next probe will do)."""

    async def round_() -> bool:
        await measure()
        return False

    await run_rounds(
        round_,
        name=what,
        interval_s=interval_s,
        on_error=lambda exc: logger.debug(f"{what} not measured: {exc!r}"),
    )


def _raise_if_cancelled() -> None:
    # pymongo's async driver may swallow a cancellation and return as if nothing happened: a
    # loop that went on would run round after round with nothing left to await on.
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
