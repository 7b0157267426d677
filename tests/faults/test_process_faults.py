"""Each service killed (SIGKILL) or stopped (SIGTERM) under a steady load: the supervisor brings
it back, a graceful stop lets in-flight calls finish and exits within the shutdown timeout, and
afterwards the exact order set is there, each order announced once.

(Moved here from the e2e suite, where SIGKILL of orders and ingest during 2,000 orders was
tested, and widened to every service.) The mock channels are left out: they are the outside
world, and their store lives in memory.
"""

from __future__ import annotations

import http.client
import signal
import time
from collections import Counter
from typing import Any

import httpx
import pytest

from devstack.processes import pid_alive
from devstack.pytest_plugin import eventually_sync
from devstack.stack import Stack

pytestmark = pytest.mark.faults

OUR_SERVICES = ("orders", "ingest", "auth", "gateway")
# Orders placed at once before the kill, so it lands in the middle of ingesting them.
BACKLOG_PER_CHANNEL = 200
SHUTDOWN_TIMEOUT_S = 15  # ServiceSettings.shutdown_timeout_s, the stack's default


def back_up(stack: Stack, service: str, old_pid: int) -> None:
    eventually_sync(
        lambda: (stack.pid(service) or old_pid) != old_pid,
        timeout_s=60,
        what=f"supervisord to restart {service}",
    )
    stack.wait_ready(service)


@pytest.mark.parametrize("service", list(OUR_SERVICES))
def test_sigkill_under_steady_load_the_supervisor_restarts_it_and_nothing_is_lost(
    service: str,
    pipeline: Any,
    steady_load: Any,
    stack: Stack,
    urls: dict[str, str],
    admin_headers: dict[str, str],
) -> None:
    with steady_load() as load:
        for channel in ("website", "amazon", "blinkit"):
            pipeline.place(channel, BACKLOG_PER_CHANNEL)
        eventually_sync(
            lambda: load.reads.codes[200] >= 5, timeout_s=60, what="the load to be served"
        )
        old_pid = stack.pid(service)
        assert old_pid is not None
        stack.kill(service, signal.SIGKILL)
        back_up(stack, service, old_pid)
        served_before = load.reads.codes[200]
        eventually_sync(
            lambda: load.reads.codes[200] > served_before + 5,
            timeout_s=60,
            what="reads to be served again",
        )
    unexpected = set(load.reads.codes) - {200, 503, 0}
    assert not unexpected, f"reads during the restart got {dict(load.reads.codes)}"
    pipeline.settled(timeout_s=300)


@pytest.mark.parametrize("service", ["orders", "gateway"])
def test_sigterm_under_load_finishes_in_flight_calls_and_exits_within_the_shutdown_timeout(
    service: str,
    pipeline: Any,
    steady_load: Any,
    stack: Stack,
    urls: dict[str, str],
    admin_headers: dict[str, str],
) -> None:
    base = httpx.URL(urls[service])
    path = "/api/orders?limit=100" if service == "gateway" else "/orders?limit=100"
    headers = {**admin_headers, "Cache-Control": "no-cache"}

    def connected() -> http.client.HTTPConnection:
        connection = http.client.HTTPConnection(base.host, base.port, timeout=30)
        connection.connect()
        return connection

    def answer(connection: http.client.HTTPConnection) -> str:
        try:
            return str(connection.getresponse().status)
        except (OSError, http.client.HTTPException) as exc:
            return f"dropped: {exc!r}"
        finally:
            connection.close()

    with steady_load() as _load:
        for channel in ("website", "amazon", "blinkit"):
            pipeline.place(channel, 100)
        old_pid = stack.pid(service)
        assert old_pid is not None
        # Accepted connections, then requests the service has read: in flight for certain
        # when the signal comes (a call still in the listen backlog is not, and would be reset).
        connections = [connected() for _ in range(12)]
        time.sleep(0.3)
        for connection in connections:
            connection.request("GET", path, headers=headers)
        time.sleep(0.3)
        signalled = time.monotonic()
        stack.kill(service, signal.SIGTERM)
        answers = [answer(connection) for connection in connections]
        eventually_sync(
            lambda: not pid_alive(old_pid),
            timeout_s=SHUTDOWN_TIMEOUT_S + 5,
            what=f"{service} to exit after SIGTERM",
        )
        took = time.monotonic() - signalled
        print(f"{service} exited {took:.1f}s after SIGTERM; in-flight answers: {Counter(answers)}")
        assert set(answers) <= {"200", "503"}, f"in-flight calls were dropped: {answers}"
        assert took <= SHUTDOWN_TIMEOUT_S + 2
        back_up(stack, service, old_pid)
    pipeline.settled(timeout_s=300)
