"""What callers get when the orders service is slow, saturated, failing, or left waiting."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from devstack.pytest_plugin import InfraUrls

from .conftest import RunningGateway, running_gateway

pytestmark = pytest.mark.integration

FRESH_S = 0.5


@pytest.fixture(scope="module")
async def gateway(infra: InfraUrls, no_spa_dist: Path) -> AsyncIterator[RunningGateway]:
    """Two calls to orders at most, no waiting for a slot, and answers fresh for half a second."""
    async with running_gateway(
        infra,
        no_spa_dist,
        orders_max_in_flight=2,
        upstream_queue_timeout_s=0,
        cache_ttl_s=FRESH_S,
        list_cache_ttl_s=FRESH_S,
        cache_stale_ttl_s=60,
        breaker_recovery_s=1,
    ) as running:
        yield running


async def test_a_saturated_service_is_a_fast_503_and_sign_in_keeps_working(
    gateway: RunningGateway,
) -> None:
    slow = [gateway.orders.add(), gateway.orders.add()]
    releases = [gateway.orders.hold(order_id) for order_id in slow]
    viewer = gateway.bearer("viewer")
    async with gateway.client() as client:
        busy = [
            asyncio.create_task(client.get(f"/api/orders/{order_id}", headers=viewer))
            for order_id in slow
        ]
        for order_id in slow:  # both of orders' slots are taken from here on
            await gateway.orders.reading[order_id].wait()
        turned_away = await client.get("/api/orders?saturated=1", headers=viewer)
        login = await client.post("/api/auth/login", json={"email": "a@b.c", "password": "x"})
        for release in releases:
            release.set()
        served = await asyncio.gather(*busy)
        after = await client.get("/api/orders?saturated=1", headers=viewer)

    assert turned_away.status_code == 503
    assert turned_away.json()["error"]["code"] == "service_unavailable"
    assert int(turned_away.headers["Retry-After"]) >= 1
    assert login.status_code == 200
    assert [r.status_code for r in served] == [200, 200]
    assert after.status_code == 200  # serving again as soon as the load is gone


async def test_a_stale_copy_is_served_while_the_service_fails(gateway: RunningGateway) -> None:
    order_id = gateway.orders.add("SHIPPED")
    viewer = gateway.bearer("viewer")
    async with gateway.client() as client:
        first = await client.get(f"/api/orders/{order_id}", headers=viewer)
        gateway.orders.down = True
        try:
            await asyncio.sleep(FRESH_S + 0.1)
            while_down = [await client.get(f"/api/orders/{order_id}", headers=viewer)]
            never_cached = await client.get(f"/api/orders/{gateway.orders.add()}", headers=viewer)
        finally:
            gateway.orders.down = False

    assert first.headers["X-Cache"] == "MISS"
    assert [(r.status_code, r.headers["X-Cache"]) for r in while_down] == [(200, "STALE")]
    assert while_down[0].json() == first.json()
    assert never_cached.status_code == 503


async def test_a_copy_past_its_freshness_is_refreshed_before_it_is_answered(
    gateway: RunningGateway,
) -> None:
    order_id = gateway.orders.add("PLACED")
    viewer = gateway.bearer("viewer")
    path = f"/api/orders/{order_id}"
    async with gateway.client() as client:
        await client.get(path, headers=viewer)
        gateway.orders.statuses[order_id] = "CANCELLED"  # changed without an event
        await asyncio.sleep(FRESH_S + 0.1)
        refreshed = await client.get(path, headers=viewer)
        again = await client.get(path, headers=viewer)

    # Never the copy from before: "show the new orders" must show them.
    assert (refreshed.headers["X-Cache"], refreshed.json()["order"]["status"]) == (
        "MISS",
        "CANCELLED",
    )
    assert (again.headers["X-Cache"], again.json()["order"]["status"]) == ("HIT", "CANCELLED")


async def test_a_client_that_leaves_cancels_its_call_to_the_service(
    gateway: RunningGateway,
) -> None:
    order_id = gateway.orders.add()
    release = gateway.orders.hold(order_id)
    async with gateway.client(timeout=0.5) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get(f"/api/orders/{order_id}", headers=gateway.bearer("viewer"))
    for _ in range(100):
        if order_id in gateway.orders.abandoned:
            break
        await asyncio.sleep(0.02)
    release.set()

    assert order_id in gateway.orders.abandoned


async def test_a_caller_asking_no_cache_gets_an_answer_from_now(gateway: RunningGateway) -> None:
    order_id = gateway.orders.add("PLACED")
    viewer = gateway.bearer("viewer")
    path = f"/api/orders/{order_id}"
    async with gateway.client() as client:
        await client.get(path, headers=viewer)
        gateway.orders.statuses[order_id] = "CONFIRMED"  # changed without an event
        cached = await client.get(path, headers=viewer)
        asked = await client.get(path, headers={**viewer, "Cache-Control": "no-cache"})

    assert (cached.headers["X-Cache"], cached.json()["order"]["status"]) == ("HIT", "PLACED")
    assert (asked.headers["X-Cache"], asked.json()["order"]["status"]) == ("MISS", "CONFIRMED")
