"""A service's stop ends its background loops, even one whose driver swallowed the cancellation
(pymongo's async driver does, now and then): a loop left running after its app stopped goes on
working the store with a stale publisher."""

from __future__ import annotations

import asyncio

import pytest
from asgi_lifespan import LifespanManager

from orderhub_common.app import create_service_app
from orderhub_common.resources import Worker, stop_tasks
from orderhub_common.settings import ServiceSettings

pytestmark = pytest.mark.unit


class Loop:
    """A worker loop whose store call swallows the first ``swallowed`` cancellations."""

    def __init__(self, swallowed: int) -> None:
        self.swallowed = swallowed
        self.stopped = False

    async def store_call(self) -> None:
        try:
            await asyncio.sleep(0.01)
        except asyncio.CancelledError:
            if not self.swallowed:
                raise
            self.swallowed -= 1  # as the driver does: the call returns as if nothing happened

    async def run(self) -> None:
        try:
            while True:
                await self.store_call()
        finally:
            self.stopped = True


async def test_a_loop_that_swallowed_its_cancellation_is_stopped_by_the_apps_stop() -> None:
    loop = Loop(swallowed=3)
    app = create_service_app(
        settings=ServiceSettings(environment="test", shutdown_timeout_s=5),
        title="probe",
        workers=lambda: [Worker("store-loop", loop.run)],
    )

    async with LifespanManager(app):
        await asyncio.sleep(0.05)

    assert loop.swallowed == 0
    assert loop.stopped


async def test_a_task_that_will_not_end_is_returned_at_the_deadline() -> None:
    refusing = True

    async def stubborn() -> None:
        while True:
            try:
                await asyncio.sleep(1)
            except asyncio.CancelledError:
                if not refusing:
                    raise

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)

    assert await stop_tasks([task], timeout_s=0.6) == {task}

    refusing = False
    assert await stop_tasks([task], timeout_s=1) == set()
    assert task.cancelled()
