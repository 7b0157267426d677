"""Readiness says whether this pod can serve its traffic in its documented mode (issue 25,
item 2): a degradable dependency's outage shows in the body and the gauge, not as a 503 that
would pull every replica out of its Service at once."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client import REGISTRY

from orderhub_common.app import create_service_app
from orderhub_common.resources import Resource
from orderhub_common.settings import ServiceSettings

pytestmark = pytest.mark.unit


class Dependency(Resource):
    def __init__(self, name: str, *, answering: bool) -> None:
        self.name = name
        self.answering = answering

    async def connect(self) -> None:
        return None

    async def ping(self) -> None:
        if not self.answering:
            raise ConnectionError(f"{self.name} at 10.1.2.3:6379 refused (secret-detail)")

    async def close(self) -> None:
        return None


def client_for(*resources: Resource) -> httpx.AsyncClient:
    app = create_service_app(
        settings=ServiceSettings(environment="test"), title="probe", resources=resources
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://probe")


def up(dependency: str) -> float | None:
    return REGISTRY.get_sample_value("orderhub_dependency_up", {"dependency": dependency})


async def test_a_degradable_dependency_down_leaves_the_pod_ready_and_says_degraded() -> None:
    cache = Dependency("cache-r1", answering=False).degrades_to("the cache fails open")
    store = Dependency("store-r1", answering=True)
    async with client_for(store, cache) as client:
        ready = await client.get("/readyz")

    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["status"] == "degraded"
    assert body["checks"] == {"store-r1": "ok", "cache-r1": "degraded: cache-r1 not answering"}
    assert body["degraded"] == {"cache-r1": "the cache fails open"}
    assert "secret-detail" not in ready.text
    assert "10.1.2.3" not in ready.text
    assert (up("cache-r1"), up("store-r1")) == (0, 1)


async def test_a_required_dependency_down_makes_the_pod_unready_whatever_else_degrades() -> None:
    cache = Dependency("cache-r2", answering=False).degrades_to("the cache fails open")
    store = Dependency("store-r2", answering=False)
    async with client_for(store, cache) as client:
        ready = await client.get("/readyz")

    assert ready.status_code == 503, ready.text
    body = ready.json()
    assert body["failing"] == ["store-r2"]
    assert body["error"]["message"] == "not ready: store-r2 not answering"
    assert body["checks"]["cache-r2"] == "degraded: cache-r2 not answering"
    assert body["degraded"] == {"cache-r2": "the cache fails open"}
    assert (up("cache-r2"), up("store-r2")) == (0, 0)


async def test_the_dependency_gauge_comes_back_to_1_when_the_dependency_answers_again() -> None:
    cache = Dependency("cache-r3", answering=False).degrades_to("the cache fails open")
    async with client_for(cache) as client:
        assert (await client.get("/readyz")).json()["status"] == "degraded"
        assert up("cache-r3") == 0
        cache.answering = True
        ready = await client.get("/readyz")
        metrics = await client.get("/metrics")

    assert ready.json() == {"status": "ready", "checks": {"cache-r3": "ok"}, "degraded": {}}
    assert up("cache-r3") == 1
    assert 'orderhub_dependency_up{dependency="cache-r3"} 1.0' in metrics.text
