"""``/api/health`` reads each service's readiness body, not only its status code: a service ready
in a degraded mode (issue 25, item 2: a degradable dependency away, ``/readyz`` still 200) shows
as such."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from gateway.api.health import _probe
from gateway.settings import GatewaySettings
from gateway.upstreams import UpstreamClient

pytestmark = pytest.mark.unit


def answering(status_code: int, body: Any) -> UpstreamClient:
    return UpstreamClient(
        "orders",
        "http://orders",
        GatewaySettings(),
        transport=httpx.MockTransport(lambda request: httpx.Response(status_code, json=body)),
    )


async def test_a_service_ready_in_a_degraded_mode_is_up_and_says_which_dependency_is_away() -> None:
    degraded = {
        "status": "degraded",
        "checks": {"mongodb": "ok", "postgresql": "degraded: postgresql not answering"},
        "degraded": {"postgresql": "lists and stats answer 503"},
    }
    health = await _probe(answering(200, degraded))

    assert health.status == "ok"
    assert health.detail == "degraded: postgresql not answering"


async def test_a_ready_service_and_an_unready_one_read_as_before() -> None:
    ready = await _probe(answering(200, {"status": "ready", "checks": {}, "degraded": {}}))
    unready = await _probe(answering(503, {"status": "unavailable", "failing": ["mongodb"]}))

    assert (ready.status, ready.detail) == ("ok", None)
    assert (unready.status, unready.detail) == ("down", "/readyz answered 503")
