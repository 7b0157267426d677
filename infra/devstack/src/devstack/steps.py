"""Timed, announced steps, so a long first install never looks hung."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextlib.contextmanager
def step(what: str) -> Iterator[None]:
    say(f"==> {what} ...")
    started = time.monotonic()
    try:
        yield
    except BaseException:
        say(f"==> {what}: FAILED after {time.monotonic() - started:.1f}s")
        raise
    say(f"==> {what}: done in {time.monotonic() - started:.1f}s")
