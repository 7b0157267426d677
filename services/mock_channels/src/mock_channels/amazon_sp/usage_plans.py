"""Usage plans: one token bucket per operation, at the rate and burst Amazon documents for it.

``scale`` multiplies the rates (never the bursts): 1 is Amazon's default plan (getOrders one
request a minute after a burst of 20); the development and test stacks scale it up so a demo
history of thousands of orders arrives in minutes. Amazon says the same: a seller's plan may be
higher than the default, and ``x-amzn-RateLimit-Limit`` says which rate applies.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from orderhub_common.amazon_sp_api import USAGE_PLANS


class Bucket:
    def __init__(self, rate: float, burst: int, clock: Callable[[], float]) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._clock = clock
        self._at = clock()

    def take(self) -> bool:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


class UsagePlans:
    def __init__(self, scale: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._scale = scale
        self._clock = clock
        self.reset()

    def reset(self) -> None:
        self.buckets = {
            operation: Bucket(plan.rate * self._scale, plan.burst, self._clock)
            for operation, plan in USAGE_PLANS.items()
        }

    def take(self, operation: str) -> bool:
        return self.buckets[operation].take()

    def limit_header(self, operation: str) -> str:
        return f"{self.buckets[operation].rate:g}"
