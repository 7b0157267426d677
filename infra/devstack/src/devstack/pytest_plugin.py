"""The one fixture layer that gives tests their infrastructure, and the polling helpers.

``infra`` yields ``InfraUrls`` from the first source that answers (see ``devstack.infra_urls``:
the environment, testcontainers, the local stack's test profile). Tests isolate themselves inside
the shared infrastructure with ``unique_name`` (Mongo and PostgreSQL database names, Kafka topic
prefixes) and wait for asynchronous outcomes with ``eventually`` / ``eventually_sync``.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator

import pytest

from devstack import infra_urls
from devstack.infra_urls import InfraUrls
from devstack.stack import Stack, test_profile

# InfraUrls is imported from here by the test suites, beside the fixture that yields it.
__all__ = ["InfraUrls", "eventually", "eventually_sync", "infra", "test_stack", "unique_name"]


@pytest.fixture(scope="session")
def test_stack() -> Iterator[Stack]:
    """The test profile's local stack (own ports and data); stopped at the end if we started it."""
    stack = Stack(test_profile())
    was_running = stack.is_running()
    yield stack
    if not was_running:
        stack.down()


@pytest.fixture(scope="session")
def infra(request: pytest.FixtureRequest) -> Iterator[InfraUrls]:
    given = infra_urls.from_environment()
    if given is not None:
        yield given
        return
    if infra_urls.docker_answers():
        with infra_urls.from_containers() as urls:
            yield urls
        return
    yield infra_urls.from_local_stack(request.getfixturevalue("test_stack"))


@pytest.fixture
def unique_name() -> str:
    """A short name no other test uses: for a database, a topic prefix, a consumer group."""
    return f"t{uuid.uuid4().hex[:10]}"


async def eventually(
    check: Callable[[], Awaitable[bool]],
    *,
    timeout_s: float = 20,
    what: str = "condition",
    interval_s: float = 0.1,
) -> None:
    """Polls ``check`` until it holds: tests wait for asynchronous outcomes, never sleep blindly."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")


def eventually_sync(
    check: Callable[[], bool],
    *,
    timeout_s: float = 20,
    what: str = "condition",
    interval_s: float = 0.5,
) -> None:
    """``eventually`` for synchronous tests (the black-box e2e suites)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
