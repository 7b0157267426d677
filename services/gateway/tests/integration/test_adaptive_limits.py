"""The edge's limit per service follows the service's latency: a fast service gets its calls
(queued briefly when they arrive together), a slow one gets fewer, and a call that could only be
answered past the latency target is refused at once instead of after a wait."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from devstack.pytest_plugin import InfraUrls

from .conftest import RunningGateway, running_gateway

pytestmark = pytest.mark.integration

MAX_IN_FLIGHT = 8
TARGET_S = 0.1
QUEUE_TIMEOUT_S = 2.0


@pytest.fixture(scope="module")
async def gateway(infra: InfraUrls, no_spa_dist: Path) -> AsyncIterator[RunningGateway]:
    async with running_gateway(
        infra,
        no_spa_dist,
        orders_max_in_flight=MAX_IN_FLIGHT,
        upstream_min_in_flight=2,
        upstream_latency_target_s=TARGET_S,
        upstream_queue_timeout_s=QUEUE_TIMEOUT_S,
    ) as running:
        yield running


def exported(name: str) -> float:
    return REGISTRY.get_sample_value(name, {"upstream": "orders"}) or 0.0


async def test_a_burst_above_the_limit_of_a_fast_service_waits_its_turn_and_is_served(
    gateway: RunningGateway,
) -> None:
    viewer = {**gateway.bearer("viewer"), "Cache-Control": "no-cache"}
    queued_before = exported("gateway_upstream_queue_seconds_count")
    async with gateway.client() as client:
        answers = await asyncio.gather(
            *(
                client.get(f"/api/orders?delay=0.02&burst={n}", headers=viewer)
                for n in range(3 * MAX_IN_FLIGHT)
            )
        )
    assert [a.status_code for a in answers] == [200] * (3 * MAX_IN_FLIGHT)
    # Each call's wait for a slot and its time at the service are exported.
    assert exported("gateway_upstream_queue_seconds_count") - queued_before == 3 * MAX_IN_FLIGHT
    assert exported("gateway_upstream_seconds_count") >= 3 * MAX_IN_FLIGHT


async def test_a_slow_service_gets_fewer_calls_and_a_hopeless_wait_is_a_fast_503(
    gateway: RunningGateway,
) -> None:
    viewer = {**gateway.bearer("viewer"), "Cache-Control": "no-cache"}
    async with gateway.client() as client:
        for spell in range(2):  # the service answers in 2 s, twenty times the target
            slow = await asyncio.gather(
                *(
                    client.get(f"/api/orders?delay=2&slow={spell}-{n}", headers=viewer)
                    for n in range(2)
                )
            )
            assert [a.status_code for a in slow] == [200, 200]
        limit = int(exported("gateway_upstream_concurrency_limit"))
        assert 2 <= limit < MAX_IN_FLIGHT

        held = [gateway.orders.add() for _ in range(limit)]
        releases = [gateway.orders.hold(order_id) for order_id in held]
        busy = [
            asyncio.create_task(client.get(f"/api/orders/{order_id}", headers=viewer))
            for order_id in held
        ]
        for order_id in held:  # every slot of the lowered limit is taken from here on
            await gateway.orders.reading[order_id].wait()
        started = time.monotonic()
        refused = await client.get("/api/orders?one-more=1", headers=viewer)
        waited = time.monotonic() - started
        for release in releases:
            release.set()
        served = await asyncio.gather(*busy)

    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "service_unavailable"
    # Refused at once: a wait for one of at most eight slots held by 2 s calls would alone take
    # longer than the 0.1 s target, so the call does not sit out the queue timeout first.
    assert waited < QUEUE_TIMEOUT_S / 4
    assert [a.status_code for a in served] == [200] * limit
