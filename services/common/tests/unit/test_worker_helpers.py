"""The helpers every background worker shares: the round loop, the guarded call, the circuit
gauges."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from circuitbreaker import CircuitBreaker, CircuitBreakerError
from prometheus_client import CollectorRegistry, Gauge

from orderhub_common.circuits import CircuitGauges, CircuitState
from orderhub_common.guarded_calls import Retries, call_guarded
from orderhub_common.workers import run_probe, run_rounds

pytestmark = pytest.mark.unit


async def test_rounds_repeat_at_once_while_there_is_work_then_wait_for_the_interval() -> None:
    rounds: list[float] = []
    loop = asyncio.get_running_loop()

    async def round_() -> bool:
        rounds.append(loop.time())
        return len(rounds) < 3

    task = asyncio.create_task(run_rounds(round_, name="probe", interval_s=0.2))
    await asyncio.sleep(0.1)
    assert len(rounds) == 3  # two with more work, then the wait
    await asyncio.sleep(0.2)
    assert len(rounds) == 4
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_wake_up_starts_the_next_round_before_the_interval() -> None:
    wake = asyncio.Event()
    rounds = 0

    async def round_() -> bool:
        nonlocal rounds
        rounds += 1
        return False

    task = asyncio.create_task(run_rounds(round_, name="probe", interval_s=60, wake=wake))
    await asyncio.sleep(0.05)
    assert rounds == 1
    wake.set()
    await asyncio.sleep(0.05)
    assert rounds == 2
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_failed_round_is_reported_and_the_loop_goes_on() -> None:
    failures: list[Exception] = []
    rounds = 0

    async def round_() -> bool:
        nonlocal rounds
        rounds += 1
        if rounds == 1:
            raise ConnectionError("store away")
        return False

    task = asyncio.create_task(
        run_rounds(round_, name="probe", interval_s=0.01, on_error=failures.append)
    )
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert [repr(f) for f in failures] == [repr(ConnectionError("store away"))]
    assert rounds > 2


async def test_a_cancellation_swallowed_inside_a_round_still_ends_the_loop() -> None:
    rounds = 0
    in_round = asyncio.Event()

    async def round_() -> bool:
        nonlocal rounds
        rounds += 1
        in_round.set()
        with contextlib.suppress(asyncio.CancelledError):  # as pymongo's driver does at times
            await asyncio.sleep(10)
        return True  # with more work, the loop would go on at once

    task = asyncio.create_task(run_rounds(round_, name="probe", interval_s=60))
    await in_round.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 1)
    assert rounds == 1


class FlakyError(Exception):
    pass


def _breaker() -> CircuitBreaker:
    return CircuitBreaker(failure_threshold=2, recovery_timeout=60, expected_exception=FlakyError)


_FAST = Retries(attempts=3, initial_s=0.001, max_s=0.002)


class Dependency:
    """Fails with ``failures`` in turn, then answers."""

    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.calls = 0

    async def call(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "answer"


def _flaky(exc: BaseException) -> bool:
    return isinstance(exc, FlakyError)


async def test_a_guarded_call_is_retried_and_the_tries_count_once_for_the_breaker() -> None:
    breaker = _breaker()
    dependency = Dependency(FlakyError(), FlakyError())

    assert await call_guarded(breaker, _FAST, _flaky, dependency.call) == "answer"
    assert dependency.calls == 3
    assert breaker.failure_count == 0


async def test_a_guarded_call_that_keeps_failing_opens_the_circuit_then_is_not_made() -> None:
    breaker = _breaker()
    dependency = Dependency(*(FlakyError() for _ in range(10)))

    for _ in range(2):
        with pytest.raises(FlakyError):
            await call_guarded(breaker, _FAST, _flaky, dependency.call)
    assert dependency.calls == 6
    assert CircuitState(breaker.state) is CircuitState.OPEN
    with pytest.raises(CircuitBreakerError):
        await call_guarded(breaker, _FAST, _flaky, dependency.call)
    assert dependency.calls == 6


async def test_a_failure_not_worth_retrying_is_raised_after_one_try() -> None:
    dependency = Dependency(ValueError("rejected"))

    with pytest.raises(ValueError, match="rejected"):
        await call_guarded(_breaker(), _FAST, _flaky, dependency.call)
    assert dependency.calls == 1


def test_circuit_gauges_show_the_state_and_when_the_circuit_first_left_closed() -> None:
    registry = CollectorRegistry()
    state = Gauge("probe_circuit_state", "state", ["label"], registry=registry)
    opened = Gauge("probe_circuit_opened", "opened", ["label"], registry=registry)
    gauges = CircuitGauges("feed", state, opened)

    def read() -> tuple[float | None, float | None]:
        return (
            registry.get_sample_value("probe_circuit_state", {"label": "feed"}),
            registry.get_sample_value("probe_circuit_opened", {"label": "feed"}),
        )

    gauges.export(CircuitState.CLOSED, 100)
    assert read() == (0, 0)
    gauges.export(CircuitState.OPEN, 200)
    gauges.export(CircuitState.HALF_OPEN, 300)
    assert read() == (1, 200)  # one outage until the circuit closes
    gauges.export(CircuitState.OPEN, 400)
    assert read() == (2, 200)
    gauges.export(CircuitState.CLOSED, 500)
    assert read() == (0, 0)


def test_circuit_gauges_without_an_opened_gauge_show_the_state_only() -> None:
    registry = CollectorRegistry()
    state = Gauge("probe_state_only", "state", ["label"], registry=registry)
    CircuitGauges("feed", state).export(CircuitState.OPEN, 100)
    assert registry.get_sample_value("probe_state_only", {"label": "feed"}) == 2


async def test_a_probe_that_failed_measures_again_at_the_next_interval() -> None:
    dependency = Dependency(ConnectionError("store away"))
    task = asyncio.create_task(run_probe(dependency.call, what="probe", interval_s=0.01))
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert dependency.calls > 2
