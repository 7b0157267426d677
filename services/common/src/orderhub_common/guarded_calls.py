"""A call to something that fails now and then: a few tries with exponential backoff and jitter
(tenacity), inside a circuit breaker, so a failing dependency is asked less and less."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from circuitbreaker import CircuitBreaker, CircuitBreakerError
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

T = TypeVar("T")


@dataclass(frozen=True)
class Retries:
    attempts: int
    initial_s: float  # the first backoff, and the most jitter added to each
    max_s: float


async def call_guarded(
    breaker: CircuitBreaker,
    retries: Retries,
    retryable: Callable[[BaseException], bool],
    call: Callable[[], Awaitable[T]],
) -> T:
    """``call`` tried up to ``retries.attempts`` times while it raises what ``retryable``
    accepts, the tries together counting once for the breaker; raises ``CircuitBreakerError``
    at once, without calling, while the circuit is open, else the last try's failure."""
    if breaker.opened:
        raise CircuitBreakerError(breaker)

    async def with_retries() -> T:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(retries.attempts),
            wait=wait_exponential_jitter(
                multiplier=retries.initial_s, jitter=retries.initial_s, max=retries.max_s
            ),
            retry=retry_if_exception(retryable),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await call()
        raise AssertionError("unreachable: tenacity reraises the last failure")

    result: T = await breaker.call_async(with_retries)
    return result
