"""Whether the query side may show an order as it was before its latest change.

Every change is projected before it is answered or announced, except while PostgreSQL is away:
the change then stands in MongoDB, and its projection waits in the outbox for the relay's sweep
(after ``ORDERS_OUTBOX_CONFIRM_GRACE_S``, within ``ORDERS_OUTBOX_SWEEP_INTERVAL_S``, or once the
lease of a relay whose process died runs out: ``ORDERS_OUTBOX_LEASE_S``). Reads that must show
the order as it is (its detail) go to MongoDB while the lag is possible: from a failure of the
query side, or a sweep that found a stored change the fast way had not published, until that
long after the last one.

Kept per process: each replica notices the outage through its own projections and reads, and
the replica whose relay sweeps notices the changes still waiting.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class ProjectionLag:
    def __init__(self, settle_s: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._settle_s = settle_s
        self._clock = clock
        self._possible_until = float("-inf")

    def noticed(self) -> None:
        """The query side failed, or changes wait to be projected: it may lag from now on."""
        self._possible_until = self._clock() + self._settle_s

    @property
    def possible(self) -> bool:
        return self._clock() < self._possible_until
