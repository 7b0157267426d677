"""A burst far above capacity, from clients that give up after two seconds: fast refusals while it
lasts, bounded latency for what is admitted, and the whole stack serving (and idle) at once
after it. Measured before this test existed: after 10 s at 800-1,200 req/s the gateway's order
routes stayed broken for more than 20 minutes, while orders itself answered."""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from devstack.pytest_plugin import eventually_sync
from devstack.stack import Stack

pytestmark = pytest.mark.faults

BURST_S = 10
CONCURRENCY = 400
CLIENT_GIVES_UP_S = 2.0
# The contract's own bound: the stack serves again within 5 s of the burst's end.
RECOVERY_S = 5
# Unlimited rate limits, so the burst reaches the services (the limits are another defence).
NO_LIMITS = {"RATE_LIMIT_PER_IP_PER_MIN": "1000000", "RATE_LIMIT_PER_USER_PER_MIN": "1000000"}


@pytest.fixture
def unlimited_gateway(stack: Stack) -> Iterator[None]:
    stack.restart_with("gateway", NO_LIMITS)
    try:
        yield
    finally:
        stack.restart_with("gateway", {})


async def burst(gateway: str, headers: dict[str, str], order_ids: list[str]) -> dict[str, Any]:
    codes: Counter[str] = Counter()
    admitted: list[float] = []
    resent = 0
    deadline = time.monotonic() + BURST_S
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(
        base_url=gateway, timeout=CLIENT_GIVES_UP_S, limits=limits
    ) as client:

        async def read(path: str, n: int, via: httpx.AsyncClient = client) -> httpx.Response:
            return await via.get(
                path,
                params={"page": n % 7 + 1} if path == "/api/orders" else None,
                headers={**headers, "Cache-Control": "no-cache"},
            )

        async def caller(index: int) -> None:
            nonlocal resent
            n = index
            while time.monotonic() < deadline:
                n += CONCURRENCY
                # Uncached reads of every kind: lists (past the cache), details and stats.
                path = (
                    "/api/orders",
                    f"/api/orders/{order_ids[n % len(order_ids)]}",
                    "/api/orders/stats",
                )[n % 3]
                started = time.monotonic()
                try:
                    try:
                        response = await read(path, n)
                    except (httpx.RemoteProtocolError, httpx.ReadError):
                        # The server had closed this kept-alive connection (idle past uvicorn's
                        # keep-alive timeout while this starved client waited) as the call went
                        # out: seen as a disconnect, or as a reset when the close crossed the
                        # request. No answer at all, so a client sends an idempotent call again
                        # (RFC 9112, 9.3.1), as browsers do. Counted, not hidden; a second
                        # failure is named below and fails the test. Sent again on a new
                        # connection, as a browser does: another kept-alive one of this starved
                        # client may have been closed just the same.
                        resent += 1
                        async with httpx.AsyncClient(
                            base_url=gateway, timeout=CLIENT_GIVES_UP_S
                        ) as fresh:
                            response = await read(path, n, fresh)
                except httpx.TimeoutException:
                    codes["gave up"] += 1
                    continue
                except httpx.TransportError as exc:
                    # No answer at all (reset, refused, cut off): named, so a failure says which.
                    codes[f"transport: {type(exc).__name__}: {exc}"[:120]] += 1
                    continue
                codes[str(response.status_code)] += 1
                if response.status_code == 200:
                    admitted.append(time.monotonic() - started)

        await asyncio.gather(*(caller(i) for i in range(CONCURRENCY)))
    return {"codes": codes, "admitted": admitted, "resent": resent}


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def busy_share(stack: Stack, names: tuple[str, ...], over_s: float = 2.0) -> dict[str, float]:
    """The share of one core each component used over ``over_s`` seconds, from now."""
    pids = {name: stack.pid(name) for name in names}
    before = {name: cpu_seconds(pid) for name, pid in pids.items() if pid}
    time.sleep(over_s)
    return {name: (cpu_seconds(pids[name] or 0) - used) / over_s for name, used in before.items()}


def test_a_burst_far_above_capacity_is_refused_fast_and_the_stack_serves_right_after(
    pipeline: Any,
    stack: Stack,
    urls: dict[str, str],
    admin_headers: dict[str, str],
    unlimited_gateway: None,
) -> None:
    gateway = urls["gateway"]
    for channel in ("website", "amazon", "blinkit"):
        pipeline.place(channel, 30)
    pipeline.settled()
    listed = httpx.get(f"{gateway}/api/orders", params={"limit": 50}, headers=admin_headers)
    order_ids = [o["id"] for o in listed.json()["orders"]]

    outcome = asyncio.run(burst(gateway, admin_headers, order_ids))
    ended = time.monotonic()
    codes: Counter[str] = outcome["codes"]
    # The figures for the closing note: what the burst offered, and what it got.
    print(
        f"burst: {sum(codes.values()) / BURST_S:.0f} calls/s for {BURST_S}s, {dict(codes)}, "
        f"{outcome['resent']} sent again on a connection the server had closed"
    )

    def order_routes_serve() -> bool:
        paths = ("/api/orders", f"/api/orders/{order_ids[0]}", "/api/orders/stats")
        try:
            checks = [httpx.get(gateway + p, headers=admin_headers, timeout=2) for p in paths]
        except httpx.TransportError:
            return False
        return all(c.status_code == 200 for c in checks)

    eventually_sync(order_routes_serve, timeout_s=RECOVERY_S, interval_s=0.2, what="serving")
    recovered_after = time.monotonic() - ended
    print(f"order routes served again {recovered_after:.1f}s after the burst")
    assert set(codes) <= {"200", "429", "503", "gave up"}, f"only 200, 429 or 503: {codes}"
    assert codes["200"] > 0, "part of the burst is admitted"
    assert codes["503"] + codes["429"] > 0, "a burst above capacity is refused, not queued"
    # Timed by the load generator, which shares the machine's two cores with the stack and
    # with every other test run on it, so the figure is printed, not asserted (speed is never
    # asserted by a timed test); what is asserted is that refusals are answers, not a queue.
    admitted = sorted(outcome["admitted"])
    p95 = admitted[int(len(admitted) * 0.95) - 1] if len(admitted) >= 20 else admitted[-1]
    print(f"admitted calls: p95 {p95:.2f}s, slowest {admitted[-1]:.2f}s")

    idle = busy_share(stack, ("orders", "mongodb", "gateway"))
    print(f"CPU share after the burst: {idle}")
    assert all(share < 0.5 for share in idle.values()), f"still busy after the burst: {idle}"
    # And it stays serving: the order routes still answer a while later.
    time.sleep(3)
    assert order_routes_serve()
    pipeline.settled()
