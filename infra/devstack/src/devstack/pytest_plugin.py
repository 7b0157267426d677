"""The one fixture layer that gives tests their infrastructure.

In order of preference: URLs from the environment (all of ``ORDERHUB_TEST_KAFKA``,
``ORDERHUB_TEST_MONGODB_URL``, ``ORDERHUB_TEST_POSTGRES_URL``, ``ORDERHUB_TEST_REDIS_URL``);
else testcontainers when a Docker engine answers; else the local-stack launcher, on the test
profile's own ports and data, so a running ``make up`` stack is never touched. Tests isolate
themselves inside the shared infrastructure with ``unique_name`` (Mongo and PostgreSQL database
names, Kafka topic prefixes).
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

import pytest

from devstack.stack import Stack, test_profile


@dataclass(frozen=True)
class InfraUrls:
    kafka_bootstrap: str
    mongodb_url: str
    redis_url: str
    # A role that may CREATE DATABASE: tests create a database of their own (``unique_name``).
    postgres_url: str

    def redis_db(self, db: int) -> str:
        """The same Redis server, another logical database (one per test suite)."""
        base = self.redis_url.rsplit("/", 1)[0] if self.redis_url.count("/") > 2 else self.redis_url
        return f"{base}/{db}"


def _from_environment() -> InfraUrls | None:
    names = {
        "kafka_bootstrap": "ORDERHUB_TEST_KAFKA",
        "mongodb_url": "ORDERHUB_TEST_MONGODB_URL",
        "redis_url": "ORDERHUB_TEST_REDIS_URL",
        "postgres_url": "ORDERHUB_TEST_POSTGRES_URL",
    }
    values = {field: os.environ.get(variable) for field, variable in names.items()}
    missing = [names[field] for field, value in values.items() if not value]
    if len(missing) == len(names):
        return None
    if missing:
        raise pytest.UsageError(f"set all ORDERHUB_TEST_* URLs or none; missing: {missing}")
    return InfraUrls(**values)  # type: ignore[arg-type]


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
    except Exception:
        return False
    return True


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
    given = _from_environment()
    if given is not None:
        yield given
        return
    if _docker_answers():
        from devstack.containers import running_containers

        with running_containers() as urls:
            yield urls
        return
    stack: Stack = request.getfixturevalue("test_stack")
    stack.ensure_infra_running()
    yield InfraUrls(
        kafka_bootstrap=stack.kafka_bootstrap,
        mongodb_url=stack.mongodb_url,
        redis_url=stack.redis_url,
        postgres_url=stack.postgres_url,
    )


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
