"""The running system as an operator sees it: every component up, observable, self-healing."""

from __future__ import annotations

import signal
from collections.abc import Callable

import httpx
import pytest

from devstack.stack import SERVICES, Stack

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_is_alive_ready_and_exposes_metrics(
    service_urls: dict[str, str], service: str
) -> None:
    base = service_urls[service]
    assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
    ready = httpx.get(f"{base}/readyz", timeout=5)
    assert ready.status_code == 200, ready.text
    assert all(result == "ok" for result in ready.json()["checks"].values())
    metrics = httpx.get(f"{base}/metrics", timeout=5)
    assert metrics.status_code == 200
    assert "# TYPE" in metrics.text


def test_each_component_writes_its_pid_file_and_log(stack: Stack) -> None:
    for component in ("kafka", "mongodb", "redis", *SERVICES):
        assert stack.pid(component), f"no PID file for {component}"
        assert (stack.logs_dir / f"{component}.log").exists()


def test_a_crashed_service_is_restarted_by_the_stack(
    stack: Stack, kill_service: Callable[..., None], wait_ready: Callable[[str], None]
) -> None:
    before = stack.pid("mock_channels")
    kill_service("mock_channels", signal.SIGKILL)
    wait_ready("mock_channels")
    after = stack.pid("mock_channels")
    assert after is not None
    assert after != before
    assert httpx.get(f"{stack.url('mock_channels')}/readyz", timeout=5).status_code == 200
