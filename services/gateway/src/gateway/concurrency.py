"""How many calls a service may have in flight from the gateway, learnt from how fast it answers.

A fixed limit is wrong both ways: too low and the edge sheds (fast 503s) while the service and
the machine are idle; too high and calls queue inside the service, where nobody can refuse them.
So each service's limit follows its answers, the way TCP's congestion window follows the network
(additive increase, multiplicative decrease):

- A call answered within ``GATEWAY_UPSTREAM_LATENCY_TARGET_S`` while the limit was in use (at
  least half of it in flight) raises the limit by ``1 / limit``: about one more call in flight
  per limit's worth of good answers.
- When the service's smoothed latency passes the target, the limit drops by a tenth, at most
  once per smoothed latency (the calls already in flight were admitted under the old limit and
  must not each cut it again).
- It never leaves ``[GATEWAY_UPSTREAM_MIN_IN_FLIGHT, GATEWAY_<SERVICE>_MAX_IN_FLIGHT]``, and
  starts at the maximum: a service is assumed able until its answers say otherwise.

``UpstreamSlots`` applies it: a call takes a slot at once while fewer calls than the limit are in
flight; otherwise it queues (first come, first served) only if its expected wait for a slot
(the calls ahead of it, times the service's latency, over the limit) stays within the target,
and never longer than ``GATEWAY_UPSTREAM_QUEUE_TIMEOUT_S``. A call whose wait alone would break
the target is refused at once (the caller's 503), not after a wait that would have broken it
anyway.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable

# How much of each new latency sample goes into the smoothed latency.
_SMOOTHING = 0.2
# The share of the limit kept when the latency passes the target.
_BACKOFF = 0.9


class AimdLimit:
    """The limit's arithmetic alone: no I/O, no clock of its own (``now`` is passed in)."""

    def __init__(self, *, minimum: int, maximum: int, target_s: float) -> None:
        self.maximum = max(1, maximum)
        self.minimum = max(1, min(minimum, self.maximum))
        self.target_s = target_s
        self._limit = float(self.maximum)
        self.latency_s: float | None = None  # smoothed; None before the first answer
        self._decreased_at = float("-inf")

    @property
    def limit(self) -> int:
        return int(self._limit)

    def answered(self, latency_s: float, in_flight: int, now: float) -> None:
        """One call's answer took ``latency_s``; ``in_flight`` calls were out as it came back
        (this one included)."""
        smoothed = self.latency_s
        smoothed = latency_s if smoothed is None else smoothed + _SMOOTHING * (latency_s - smoothed)
        self.latency_s = smoothed
        if smoothed > self.target_s:
            if now - self._decreased_at >= smoothed:
                self._limit = max(float(self.minimum), self._limit * _BACKOFF)
                self._decreased_at = now
        elif latency_s <= self.target_s and 2 * in_flight >= self._limit:
            self._limit = min(float(self.maximum), self._limit + 1 / self._limit)

    def expected_wait_s(self, queued: int) -> float:
        """How long a call behind ``queued`` others can expect to wait for a slot."""
        if self.latency_s is None:
            return 0.0
        return (queued + 1) * self.latency_s / max(1, self.limit)

    def would_break_target(self, queued: int) -> bool:
        """Whether queueing behind ``queued`` others would by itself take the call past the
        target. The service's own latency is not counted against it: a service answering slower
        than the target gets fewer calls at once (the limit), not refusals while it keeps up."""
        return self.expected_wait_s(queued) > self.target_s


class UpstreamSlots:
    """At most ``limit`` calls in flight to one service; a FIFO queue for the rest."""

    def __init__(
        self,
        limit: AimdLimit,
        *,
        queue_timeout_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self._queue_timeout_s = queue_timeout_s
        self._clock = clock
        self.in_flight = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def queued(self) -> int:
        return len(self._waiters)

    async def take(self) -> bool:
        """True once a slot is this call's (``release`` it), False when the call must be refused."""
        if self.in_flight < self.limit.limit and not self._waiters:
            self.in_flight += 1
            return True
        if self._queue_timeout_s <= 0 or self.limit.would_break_target(len(self._waiters)):
            return False
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(self._queue_timeout_s):
                await waiter
        except TimeoutError:
            self._abandon(waiter)
            return False
        except BaseException:
            self._abandon(waiter)
            raise
        return True  # the releasing call handed its slot over: in_flight already counts it

    def release(self, latency_s: float | None) -> None:
        """Ends a call; ``latency_s`` is how long the service took (None: not a sample, such as
        a call that failed before the service answered)."""
        if latency_s is not None:
            self.limit.answered(latency_s, self.in_flight, self._clock())
        self.in_flight -= 1
        self._wake()

    def _wake(self) -> None:
        while self._waiters and self.in_flight < self.limit.limit:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self.in_flight += 1
                waiter.set_result(None)

    def _abandon(self, waiter: asyncio.Future[None]) -> None:
        if waiter in self._waiters:
            self._waiters.remove(waiter)
        elif waiter.done() and not waiter.cancelled():
            # Handed a slot just as it gave up: the slot goes to the next in line.
            self.in_flight -= 1
            self._wake()
