"""The control API (CONTRACT.md section 6) has no credentials: it exists only where a
development, test or demo stack turns it on (issue 21, finding 11)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import ValidationError

from mock_channels.main import create_app
from mock_channels.settings import MockChannelsSettings
from orderhub_common.settings import load_settings
from orderhub_common.shopify import SIMULATOR_ADMIN_TOKEN

pytestmark = pytest.mark.unit

CONTROL_CALLS = [
    ("POST", "/_control/reset", None),
    ("POST", "/_control/website/orders", {"count": 1}),
    ("GET", "/_control/amazon/orders/count", None),
    ("GET", "/_control/blinkit/orders/1", None),
    ("POST", "/_control/website/orders/1/status", {"status": "CONFIRMED"}),
    ("GET", "/_control/website/faults", None),
    ("PUT", "/_control/website/faults", {"down": True, "errorRate": 0, "latencyMs": 0}),
]


async def _client(settings: MockChannelsSettings) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
        yield client


async def website_orders(client: httpx.AsyncClient) -> httpx.Response:
    """The website's orders, as Shopify's Admin GraphQL API lists them."""
    return await client.post(
        "/website/admin/api/2025-10/graphql.json",
        json={"query": "{ orders(first: 50) { nodes { id } } }"},
        headers={"X-Shopify-Access-Token": SIMULATOR_ADMIN_TOKEN},
    )


@pytest.fixture
async def default_channels() -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(MockChannelsSettings(seed_orders=3)):
        yield client


@pytest.fixture
async def demo_channels() -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(MockChannelsSettings(seed_orders=0, control_api=True)):
        yield client


@pytest.mark.parametrize(("method", "path", "body"), CONTROL_CALLS)
async def test_by_default_the_control_api_does_not_exist(
    default_channels: httpx.AsyncClient, method: str, path: str, body: object
) -> None:
    response = await default_channels.request(method, path, json=body)

    assert response.status_code == 404, response.text
    assert response.headers["content-type"].startswith("application/json")


async def test_without_the_control_api_nobody_can_fail_or_fill_a_channel(
    default_channels: httpx.AsyncClient,
) -> None:
    await default_channels.put(
        "/_control/website/faults", json={"down": True, "errorRate": 0, "latencyMs": 0}
    )
    await default_channels.post("/_control/website/orders", json={"count": 50})

    feed = await default_channels.get("/blinkit/v1/orders")
    website = await website_orders(default_channels)

    assert feed.status_code == 200, "the feeds still answer, and no fault was injected"
    assert len(feed.json()["orders"]) == 3, "only the seeded history"
    assert website.status_code == 200
    assert len(website.json()["data"]["orders"]["nodes"]) == 3


async def test_turned_on_the_control_api_creates_orders_and_injects_faults(
    demo_channels: httpx.AsyncClient,
) -> None:
    created = await demo_channels.post("/_control/website/orders", json={"count": 2})
    count = await demo_channels.get("/_control/website/orders/count")
    faults = await demo_channels.put(
        "/_control/website/faults", json={"down": True, "errorRate": 0, "latencyMs": 0}
    )
    feed = await website_orders(demo_channels)

    assert created.status_code == 200
    assert len(created.json()["created"]) == 2
    assert count.json() == {"count": 2}
    assert faults.status_code == 200
    assert feed.status_code == 503


def test_production_refuses_the_control_api() -> None:
    with pytest.raises(ValidationError, match="MOCK_CHANNELS_CONTROL_API"):
        MockChannelsSettings(environment="production", control_api=True)

    assert MockChannelsSettings(environment="production").control_api is False
    assert MockChannelsSettings(environment="test", control_api=True).control_api is True
    assert MockChannelsSettings(environment="development", control_api=True).control_api is True


def test_a_production_service_told_to_serve_the_control_api_does_not_start(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ORDERHUB_ENV", "production")
    monkeypatch.setenv("MOCK_CHANNELS_CONTROL_API", "true")

    with pytest.raises(SystemExit) as stopped:
        load_settings(MockChannelsSettings)

    assert stopped.value.code == 2
    assert "MOCK_CHANNELS_CONTROL_API" in capsys.readouterr().err
