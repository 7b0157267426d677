"""Where the local stack is, who signs in, its processes, and the bench profile of the gateway.

The one module that knows the devstack launcher; everything else gets URLs and PIDs from here.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType

from bench.api import Credentials
from devstack.stack import Stack, local_profile

# CONTRACT.md section 1: the components, each with its PID file at .run/<component>.pid.
COMPONENTS = (
    "kafka",
    "mongodb",
    "postgres",
    "redis",
    "auth",
    "orders",
    "ingest",
    "gateway",
    "mock_channels",
)
# The bench's whole crowd comes from one client address: the gateway's per-address limit (its
# sign-ins and other calls without a token) is lifted for the run, and so are the services' own,
# which count only callers that reach them without the gateway (the bench's reads of the query
# plans). The per-user limits stay as configured: each person of the crowd has an account.
BENCH_GATEWAY_ENV = {"RATE_LIMIT_PER_IP_PER_MIN": "1000000"}
BENCH_ENV = {
    "auth": {"AUTH_RATE_LIMIT_PER_IP_PER_MIN": "1000000"},
    "orders": {"ORDERS_RATE_LIMIT_PER_IP_PER_MIN": "1000000"},
    "gateway": BENCH_GATEWAY_ENV,
}


@dataclass(frozen=True)
class LocalStack:
    gateway_url: str
    channels_url: str
    orders_url: str
    admin: Credentials
    viewer: Credentials
    stack: Stack

    def service_environment(self) -> dict[str, str]:
        """The environment the stack gives its services (addresses, credentials)."""
        return self.stack.service_environment()

    def component_pids(self) -> dict[str, int]:
        """Root PID of every component that has a PID file (``.run/<component>.pid``) now."""
        pids = {name: self.stack.pid(name) for name in COMPONENTS}
        return {name: pid for name, pid in pids.items() if pid}


def local_stack() -> LocalStack:
    stack = Stack(local_profile())
    env = stack.profile.environment
    return LocalStack(
        gateway_url=stack.url("gateway"),
        channels_url=stack.url("mock_channels"),
        orders_url=stack.url("orders"),
        admin=Credentials(env["BOOTSTRAP_ADMIN_EMAIL"], env["BOOTSTRAP_ADMIN_PASSWORD"]),
        viewer=Credentials(env["BOOTSTRAP_VIEWER_EMAIL"], env["BOOTSTRAP_VIEWER_PASSWORD"]),
        stack=stack,
    )


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@contextmanager
def bench_profile(stack: Stack) -> Iterator[None]:
    """The gateway, auth and orders restarted with the bench's rate limits, and restored when
    the block ends.

    Restored however the block ends: normally, on an error, on Ctrl-C or on SIGTERM; a
    component that fails to come back (orders on a schema behind its release) does not keep the
    others in the bench's settings.
    """
    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        for component, environment in BENCH_ENV.items():
            stack.restart_with(component, environment)
        yield
    finally:
        print("==> bench: restoring the services' own settings", flush=True)
        failed: list[BaseException] = []
        for component in BENCH_ENV:
            try:
                stack.restart_with(component, {})
            except (Exception, SystemExit) as exc:
                failed.append(exc)
        signal.signal(signal.SIGTERM, previous)
        if failed:
            raise failed[0]
