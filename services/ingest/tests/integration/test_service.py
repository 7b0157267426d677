from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from joserfc import jwt
from joserfc.jwk import OKPKey
from prometheus_client import REGISTRY
from redis.asyncio import Redis

from devstack.pytest_plugin import eventually
from ingest.main import create_app
from ingest.settings import IngestSettings
from orderhub_common.events import Channel
from orderhub_common.security import JwtVerifier

from .conftest import create_orders

pytestmark = pytest.mark.integration


SIGNING_KEY = OKPKey.generate_key("Ed25519", parameters={"kid": "ingest-test", "use": "sig"})


async def published_keys() -> Mapping[str, Any]:
    return {"keys": [SIGNING_KEY.as_dict(private=False)]}


def bearer(role: str) -> dict[str, str]:
    now = int(time.time())
    claims = {
        "sub": f"user-{role}",
        "role": role,
        "iss": "orderhub-auth",
        "aud": "orderhub",
        "iat": now,
        "exp": now + 600,
        "jti": f"jti-{role}-{now}",
    }
    header = {"alg": "Ed25519", "kid": SIGNING_KEY.kid}
    token = jwt.encode(header, claims, SIGNING_KEY, algorithms=["Ed25519"])
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def ingest(
    settings: IngestSettings, redis: Redis, channels_app: FastAPI
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, channel_transport=httpx.ASGITransport(app=channels_app))
    app.state.jwt_verifier = JwtVerifier(settings, jwks_source=published_keys)
    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=15):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://ingest", headers=bearer("viewer")
        ) as client:
            yield client


async def channel_rows(ingest: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    response = await ingest.get("/channels")
    assert response.status_code == 200
    return {row["channel"]: row for row in response.json()}


async def test_a_down_channel_opens_its_circuit_while_the_others_keep_flowing(
    ingest: httpx.AsyncClient, channels: httpx.AsyncClient
) -> None:
    await create_orders(channels, Channel.AMAZON, 2)

    async def amazon_ingested() -> bool:
        return (await channel_rows(ingest))["amazon"]["ordersIngested"] == 2

    await eventually(amazon_ingested, what="amazon's first orders")

    await channels.put("/_control/amazon/faults", json={"down": True})
    await create_orders(channels, Channel.AMAZON, 3)
    await create_orders(channels, Channel.WEBSITE, 4)
    await create_orders(channels, Channel.BLINKIT, 5)

    async def outage_visible() -> bool:
        rows = await channel_rows(ingest)
        return (
            rows["amazon"]["circuit"] == "open"
            and rows["website"]["ordersIngested"] == 4
            and rows["blinkit"]["ordersIngested"] == 5
        )

    await eventually(outage_visible, what="amazon open while website and blinkit flow")
    rows = await channel_rows(ingest)
    assert "503" in rows["amazon"]["lastError"]
    assert rows["amazon"]["lastErrorAt"] is not None
    assert rows["website"]["circuit"] == rows["blinkit"]["circuit"] == "closed"
    assert (await ingest.get("/readyz")).status_code == 200, "a channel is not a dependency"
    fallbacks = REGISTRY.get_sample_value("ingest_fallback_pages_total", {"channel": "amazon"})
    assert fallbacks is not None
    assert fallbacks >= 1, "the last good page was served from the cache"
    circuit_gauge = REGISTRY.get_sample_value("ingest_circuit_state", {"channel": "amazon"})
    assert circuit_gauge == 2

    await channels.put("/_control/amazon/faults", json={"down": False})

    async def recovered() -> bool:
        row = (await channel_rows(ingest))["amazon"]
        return row["circuit"] == "closed" and row["ordersIngested"] >= 5

    await eventually(recovered, what="amazon to recover and catch up")


async def test_a_flaky_channel_is_retried_and_nothing_is_lost(
    ingest: httpx.AsyncClient, channels: httpx.AsyncClient
) -> None:
    await channels.put("/_control/blinkit/faults", json={"errorRate": 0.3})
    await create_orders(channels, Channel.BLINKIT, 30)

    async def all_ingested() -> bool:
        return (await channel_rows(ingest))["blinkit"]["ordersIngested"] >= 30

    await eventually(all_ingested, timeout_s=30, what="every blinkit order despite errors")


async def test_channels_start_closed_with_nothing_ingested(ingest: httpx.AsyncClient) -> None:
    rows = await channel_rows(ingest)
    assert set(rows) == {"website", "amazon", "blinkit"}
    assert all(row["circuit"] == "closed" for row in rows.values())
    assert set(rows["website"]) == {
        "channel",
        "circuit",
        "lastSuccessAt",
        "lastErrorAt",
        "lastError",
        "ordersIngested",
    }


async def test_asyncapi_documents_the_ingested_topic(
    ingest: httpx.AsyncClient, settings: IngestSettings
) -> None:
    response = await ingest.get("/asyncapi")
    assert response.status_code == 200
    document = response.json()
    assert document["asyncapi"].startswith("3.")
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert f"{settings.kafka_topic_prefix}orders.ingested.v1" in addresses
    schemas = document["components"]["schemas"]
    assert any("ChannelOrder" in name for name in schemas)
    html = await ingest.get("/asyncapi/html")
    assert html.status_code == 200
    assert "asyncapi" in html.text.lower()


async def test_channel_status_is_only_for_signed_in_callers(ingest: httpx.AsyncClient) -> None:
    anonymous = await ingest.get("/channels", headers={"Authorization": ""})
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "unauthorized"
    forged = await ingest.get("/channels", headers={"Authorization": "Bearer not.a.token"})
    assert forged.status_code == 401
    assert (await ingest.get("/channels", headers=bearer("admin"))).status_code == 200
