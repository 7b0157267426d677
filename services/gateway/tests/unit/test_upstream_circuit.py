"""The breaker in front of each service is exported for the breaker-open alert."""

from __future__ import annotations

import circuitbreaker
import httpx
import pytest
from prometheus_client import REGISTRY

from gateway.settings import GatewaySettings
from gateway.upstreams import UpstreamClient, UpstreamUnavailableError

pytestmark = pytest.mark.unit


class Service:
    """A service that refuses connections while ``down``."""

    def __init__(self) -> None:
        self.down = True

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(200, json={})


def exported(name: str) -> float | None:
    return REGISTRY.get_sample_value(name, {"upstream": "ingest"})


async def test_the_breaker_s_state_and_the_time_it_left_closed_are_exported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monotonic = [1000.0]
    monkeypatch.setattr(circuitbreaker, "monotonic", lambda: monotonic[0])
    wall = [1_800_000_000.0]
    service = Service()
    client = UpstreamClient(
        "ingest",
        "http://ingest",
        GatewaySettings(breaker_failure_threshold=2, breaker_recovery_s=30),
        transport=httpx.MockTransport(service),
        clock=lambda: wall[0],
    )
    assert exported("gateway_upstream_circuit_state") == 0
    assert exported("gateway_upstream_circuit_opened_timestamp_seconds") == 0

    for _ in range(3):
        with pytest.raises(UpstreamUnavailableError):
            await client.request("GET", "/channels")
        wall[0] += 1
    assert exported("gateway_upstream_circuit_state") == 2
    assert exported("gateway_upstream_circuit_opened_timestamp_seconds") == 1_800_000_001.0

    monotonic[0] += 30
    service.down = False
    response = await client.request("GET", "/channels")

    assert response.status_code == 200
    assert exported("gateway_upstream_circuit_state") == 0
    assert exported("gateway_upstream_circuit_opened_timestamp_seconds") == 0
