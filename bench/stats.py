"""Numbers of one load step from its raw request samples: rate, percentiles, errors by kind.

Percentiles are nearest-rank over every request (no histogram buckets), so p99 of 200
requests is the second slowest one.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bench.results import Numbers


@dataclass(frozen=True)
class Sample:
    """One request as the load generator saw it."""

    started_at: float  # epoch seconds
    elapsed_ms: float
    name: str
    error_kind: str | None  # None when it succeeded

    @classmethod
    def from_row(cls, row: Sequence[object]) -> Sample:
        started_at, elapsed_ms, name, error_kind = row
        return cls(
            float(str(started_at)),
            float(str(elapsed_ms)),
            str(name),
            None if error_kind is None else str(error_kind),
        )

    def to_row(self) -> list[object]:
        return [round(self.started_at, 4), round(self.elapsed_ms, 2), self.name, self.error_kind]


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank ``q``-th percentile (0 < q <= 100) of ascending values; 0.0 when empty."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def numbers(samples: Iterable[Sample], seconds: float) -> Numbers:
    """Rate and latency of ``samples``, which started within a window of ``seconds``.

    Latency percentiles cover every request, failed ones included: a timeout is as slow as the
    user felt it.
    """
    chosen = list(samples)
    latencies = sorted(s.elapsed_ms for s in chosen)
    kinds = Counter(s.error_kind for s in chosen if s.error_kind is not None)
    return Numbers(
        requests=len(chosen),
        seconds=round(seconds, 2),
        rps=round(len(chosen) / seconds, 1) if seconds > 0 else 0.0,
        p50_ms=round(percentile(latencies, 50), 1),
        p95_ms=round(percentile(latencies, 95), 1),
        p99_ms=round(percentile(latencies, 99), 1),
        max_ms=round(latencies[-1], 1) if latencies else 0.0,
        errors=sum(kinds.values()),
        error_kinds=dict(kinds.most_common()),
    )


def in_window(samples: Iterable[Sample], start: float, end: float) -> list[Sample]:
    """Samples whose request started in ``[start, end)``."""
    return [s for s in samples if start <= s.started_at < end]


def numbers_by_name(samples: Sequence[Sample], seconds: float) -> dict[str, Numbers]:
    names = sorted({s.name for s in samples})
    return {name: numbers((s for s in samples if s.name == name), seconds) for name in names}


def error_kind(status_code: int, error_code: str | None, exception: str | None = None) -> str:
    """A short, groupable name of what went wrong: ``HTTP 429 rate_limited``, ``timeout``."""
    if status_code == 0:
        return exception or "connection failed"
    return f"HTTP {status_code} {error_code}" if error_code else f"HTTP {status_code}"
