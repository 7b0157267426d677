"""The whole system, black box: every service on the test profile's ports, through the gateway.

The stack comes from ``devstack`` (the same launcher as ``make up``), on ports and data of its own,
so these tests run whether or not a developer's ``make up`` stack is running.
"""

from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from devstack.stack import SERVICES, Stack
from orderhub_common.kafka import Topics, aiokafka_options
from orderhub_common.settings import KafkaSettings


@pytest.fixture(scope="session")
def stack(test_stack: Stack) -> Stack:
    test_stack.up()
    return test_stack


@pytest.fixture(scope="session")
def service_urls(stack: Stack) -> dict[str, str]:
    return {name: stack.url(name) for name in SERVICES}


@pytest.fixture(scope="session")
def gateway_url(service_urls: dict[str, str]) -> str:
    return service_urls["gateway"]


@pytest.fixture(scope="session")
def mock_channels_url(service_urls: dict[str, str]) -> str:
    return service_urls["mock_channels"]


@pytest.fixture(scope="session")
def kafka_options(stack: Stack) -> dict[str, Any]:
    """The broker and its SASL credentials, as an aiokafka client's keyword arguments."""
    return aiokafka_options(KafkaSettings(**stack.kafka_settings()))


@pytest.fixture(scope="session")
def topics() -> Topics:
    return Topics()


@pytest.fixture(scope="session")
def mongodb_url(stack: Stack) -> str:
    return stack.mongodb_url


@pytest.fixture(scope="session")
def credentials(stack: Stack) -> dict[str, tuple[str, str]]:
    env = stack.profile.environment
    return {
        "admin": (env["BOOTSTRAP_ADMIN_EMAIL"], env["BOOTSTRAP_ADMIN_PASSWORD"]),
        "viewer": (env["BOOTSTRAP_VIEWER_EMAIL"], env["BOOTSTRAP_VIEWER_PASSWORD"]),
    }


def _login(gateway_url: str, email: str, password: str) -> dict[str, str]:
    response = httpx.post(
        f"{gateway_url}/api/auth/login", json={"email": email, "password": password}, timeout=10
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['accessToken']}"}


# Per module, not per session: an access token lives 15 minutes, and the whole e2e suite runs
# longer than that, so a session's token expired half-way through and every later test got 401.
@pytest.fixture(scope="module")
def admin_headers(gateway_url: str, credentials: dict[str, tuple[str, str]]) -> dict[str, str]:
    return _login(gateway_url, *credentials["admin"])


@pytest.fixture(scope="module")
def viewer_headers(gateway_url: str, credentials: dict[str, tuple[str, str]]) -> dict[str, str]:
    return _login(gateway_url, *credentials["viewer"])


@pytest.fixture
def kill_service(stack: Stack) -> Callable[..., None]:
    """Sends a signal (default SIGKILL) to one component; supervisord brings it back."""

    def kill(name: str, sig: signal.Signals = signal.SIGKILL) -> None:
        stack.kill(name, sig)

    return kill


@pytest.fixture
def wait_ready(stack: Stack) -> Callable[[str], None]:
    """Waits until a component answers again (``/readyz`` 200 for services)."""

    def wait(name: str) -> None:
        time.sleep(0.5)  # let supervisord notice the exit before probing
        stack.wait_ready(name)

    return wait


@pytest.fixture
def stopped_service(stack: Stack) -> Callable[[str], object]:
    """A context manager: the named component is stopped inside it and running again after."""

    @contextlib.contextmanager
    def stopped(name: str) -> Iterator[None]:
        stack.stop(name)
        try:
            yield
        finally:
            stack.start(name)

    return stopped
