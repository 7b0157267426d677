"""A one-line progress bar with the rate, for terminals and for logs alike."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def format_duration(seconds: float) -> str:
    """``42s``, ``3m05s``, ``1h02m``: short enough for a progress line."""
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def render_bar(done: int, total: int, elapsed_s: float, width: int = 30) -> str:
    """``[#####-----]  5,000/10,000  50%  83.3 orders/s  ETA 1m00s``; ``done`` may exceed
    ``total`` (the bar stays full)."""
    share = 1.0 if total <= 0 else min(1.0, max(0, done) / total)
    filled = round(share * width)
    rate = max(0, done) / elapsed_s if elapsed_s > 0 else 0.0
    line = f"[{'#' * filled}{'-' * (width - filled)}] {done:>7,}/{total:,} {share:4.0%}"
    line += f"  {rate:6.1f} orders/s"
    if rate > 0 and done < total:
        line += f"  ETA {format_duration((total - done) / rate)}"
    return line


class ProgressBar:
    """Redraws in place on a terminal; elsewhere (make in CI, a log) prints a line now and then."""

    def __init__(self, total: int, stream: TextIO = sys.stderr, log_every_s: float = 10) -> None:
        self.total = total
        self._stream = stream
        self._interactive = stream.isatty()
        self._log_every_s = log_every_s
        self._started = time.monotonic()
        self._last_logged = float("-inf")
        self._done = 0

    @property
    def elapsed_s(self) -> float:
        return time.monotonic() - self._started

    def update(self, done: int) -> None:
        self._done = done
        line = render_bar(done, self.total, self.elapsed_s)
        if self._interactive:
            self._stream.write(f"\r{line}")
            self._stream.flush()
        elif time.monotonic() - self._last_logged >= self._log_every_s:
            self._last_logged = time.monotonic()
            print(line, file=self._stream, flush=True)

    def finish(self) -> None:
        """Draws the last count seen and ends the line."""
        line = render_bar(self._done, self.total, self.elapsed_s)
        print(f"\r{line}" if self._interactive else line, file=self._stream, flush=True)
