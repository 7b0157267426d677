import asyncio

import pytest

from gateway.cache import SingleFlight

pytestmark = pytest.mark.unit


class Service:
    def __init__(self) -> None:
        self.calls = 0
        self.release = asyncio.Event()
        self.cancelled = False

    async def answer(self) -> str:
        self.calls += 1
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        return f"answer {self.calls}"


async def test_concurrent_callers_of_one_key_share_one_computation() -> None:
    flights: SingleFlight[str] = SingleFlight()
    service = Service()

    callers = [asyncio.create_task(flights.run("k", service.answer)) for _ in range(50)]
    await asyncio.sleep(0)
    service.release.set()

    assert await asyncio.gather(*callers) == ["answer 1"] * 50
    assert service.calls == 1


async def test_a_failure_reaches_every_caller_and_the_next_call_starts_afresh() -> None:
    flights: SingleFlight[str] = SingleFlight()
    calls = 0

    async def failing() -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        raise ConnectionError("down")

    results = await asyncio.gather(
        *(flights.run("k", failing) for _ in range(5)), return_exceptions=True
    )
    with pytest.raises(ConnectionError):
        await flights.run("k", failing)

    assert all(isinstance(result, ConnectionError) for result in results)
    assert calls == 2


async def test_a_caller_that_leaves_does_not_cancel_the_others_but_the_last_one_does() -> None:
    flights: SingleFlight[str] = SingleFlight()
    service = Service()
    first = asyncio.create_task(flights.run("k", service.answer))
    second = asyncio.create_task(flights.run("k", service.answer))
    await asyncio.sleep(0)

    first.cancel()
    await asyncio.sleep(0)
    assert not service.cancelled
    second.cancel()
    await asyncio.gather(first, second, return_exceptions=True)
    await asyncio.sleep(0)

    assert service.cancelled


async def test_a_background_computation_runs_to_its_end_without_callers() -> None:
    flights: SingleFlight[str] = SingleFlight()
    service = Service()

    flights.start("k", service.answer)
    flights.start("k", service.answer)  # already running: not started twice
    joined = asyncio.create_task(flights.run("k", service.answer))
    await asyncio.sleep(0)
    joined.cancel()
    await asyncio.sleep(0)
    service.release.set()
    await asyncio.sleep(0)

    assert service.calls == 1
    assert not service.cancelled


async def test_a_caller_arriving_as_the_last_one_leaves_gets_a_computation_of_its_own() -> None:
    flights: SingleFlight[str] = SingleFlight()
    service = Service()
    leaving = asyncio.create_task(flights.run("k", service.answer))
    await asyncio.sleep(0)

    leaving.cancel()
    await asyncio.sleep(0)  # the computation is being cancelled, not yet done
    arriving = asyncio.create_task(flights.run("k", service.answer))
    await asyncio.sleep(0)
    service.release.set()

    assert await arriving == "answer 2"
    assert service.calls == 2
