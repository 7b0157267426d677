from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from prometheus_client import REGISTRY
from redis.asyncio import Redis

from devstack.pytest_plugin import InfraUrls, eventually
from ingest.main import create_app
from ingest.settings import IngestSettings
from orderhub_common.events import Channel
from orderhub_common.kafka import topics_from
from orderhub_common.security import JwtVerifier
from orderhub_common.testing import FakeTokenIssuer

from .conftest import create_orders, ingest_settings, read_topic

pytestmark = pytest.mark.integration


TOKENS = FakeTokenIssuer(kid="ingest-test")


@pytest.fixture
async def ingest(
    settings: IngestSettings, redis: Redis, channels_app: FastAPI
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, channel_transport=httpx.ASGITransport(app=channels_app))
    app.state.jwt_verifier = JwtVerifier(settings, jwks_source=TOKENS.jwks)
    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=15):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://ingest", headers=TOKENS.bearer("viewer")
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
    # The outage is dated from its first failed poll, and its failed polls are counted.
    assert rows["amazon"]["failingSince"] is not None
    assert rows["amazon"]["failingSince"] <= rows["amazon"]["lastErrorAt"]
    assert rows["amazon"]["failedPolls"] >= 1
    assert rows["website"]["failingSince"] is None
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
    row = (await channel_rows(ingest))["amazon"]
    assert (row["failingSince"], row["failedPolls"]) == (None, 0), "a good poll ends the outage"


async def published_external_ids(settings: IngestSettings, channel: Channel) -> set[str]:
    """The external ids of every ``channel`` order published on orders.ingested.v1 so far."""
    records = await read_topic(settings, topics_from(settings).ingested)
    orders = [json.loads(record.value)["order"] for record in records]
    return {order["externalId"] for order in orders if order["channel"] == channel}


async def test_a_flaky_channel_is_retried_and_nothing_is_lost(
    ingest: httpx.AsyncClient, channels: httpx.AsyncClient, settings: IngestSettings
) -> None:
    await channels.put("/_control/blinkit/faults", json={"errorRate": 0.3})
    created = set(await create_orders(channels, Channel.BLINKIT, 30))

    async def all_published() -> bool:
        return created <= await published_external_ids(settings, Channel.BLINKIT)

    await eventually(all_published, timeout_s=30, what="every blinkit order despite errors")
    assert await published_external_ids(settings, Channel.BLINKIT) == created, "and nothing else"


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
        "failingSince",
        "failedPolls",
        "ordersIngested",
        "paused",
        "lastErrorKind",
        "connection",
        "backfill",
        "backfillPercent",
    }
    assert not any(row["paused"] for row in rows.values())


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
    assert (await ingest.get("/channels", headers=TOKENS.bearer("admin"))).status_code == 200


async def test_channel_status_is_503_while_redis_is_down(
    infra: InfraUrls, unique_name: str
) -> None:
    # Built without its lifespan, so nothing waits for the dead Redis before the request.
    settings = ingest_settings(infra, unique_name, REDIS_URL="redis://127.0.0.1:1/3")
    app = create_app(settings)
    app.state.jwt_verifier = JwtVerifier(settings, jwks_source=TOKENS.jwks)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ingest") as client:
        response = await client.get("/channels", headers=TOKENS.bearer("viewer"))

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    assert "Retry-After" in response.headers


async def test_a_channel_paused_by_config_is_not_polled_until_an_admin_resumes_it_audited(
    infra: InfraUrls,
    unique_name: str,
    redis: Redis,
    channels_app: FastAPI,
    channels: httpx.AsyncClient,
) -> None:
    # The same names as the `redis` fixture's settings, so it cleans up after this test too.
    settings = ingest_settings(infra, unique_name, INGEST_PAUSED_CHANNELS="amazon")
    app = create_app(settings, channel_transport=httpx.ASGITransport(app=channels_app))
    app.state.jwt_verifier = JwtVerifier(settings, jwks_source=TOKENS.jwks)
    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=15):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://ingest", headers=TOKENS.bearer("admin")
        ) as ingest:
            held = set(await create_orders(channels, Channel.AMAZON, 3))
            flowing = set(await create_orders(channels, Channel.WEBSITE, 2))

            async def website_in() -> bool:
                return flowing <= await published_external_ids(settings, Channel.WEBSITE)

            await eventually(website_in, what="the website orders")
            rows = await channel_rows(ingest)
            assert rows["amazon"]["paused"] is True
            assert rows["website"]["paused"] is False
            assert await published_external_ids(settings, Channel.AMAZON) == set()

            viewer = await ingest.post("/channels/amazon/resume", headers=TOKENS.bearer("viewer"))
            assert viewer.status_code == 403
            resumed = await ingest.post(
                "/channels/amazon/resume", headers=TOKENS.bearer("admin", user_id="admin-7")
            )
            assert resumed.status_code == 200, resumed.text
            assert resumed.json()["paused"] is False

            async def amazon_in() -> bool:
                return await published_external_ids(settings, Channel.AMAZON) == held

            await eventually(amazon_in, what="amazon's held orders after the resume")

    records = await read_topic(settings, topics_from(settings).audit)
    audit = [json.loads(record.value) for record in records]
    assert [(a["action"], a["target"], a["actorId"]) for a in audit] == [
        ("channel.resumed", "amazon", "admin-7")
    ]
    assert audit[0]["details"] == {"wasPaused": True}


async def test_an_admin_pause_holds_one_channel_while_the_others_flow(
    ingest: httpx.AsyncClient, channels: httpx.AsyncClient, settings: IngestSettings
) -> None:
    paused = await ingest.post("/channels/blinkit/pause", headers=TOKENS.bearer("admin"))
    assert paused.status_code == 200, paused.text
    assert paused.json()["channel"] == "blinkit"
    assert paused.json()["paused"] is True
    held = set(await create_orders(channels, Channel.BLINKIT, 2))
    flowing = set(await create_orders(channels, Channel.WEBSITE, 2))

    async def website_in() -> bool:
        return flowing <= await published_external_ids(settings, Channel.WEBSITE)

    await eventually(website_in, what="the website orders")
    assert not held & await published_external_ids(settings, Channel.BLINKIT)
    assert (await channel_rows(ingest))["blinkit"]["paused"] is True

    async def gauge_says_paused() -> bool:
        # The poller reports its pause on its next turn, which may come after website's orders.
        return REGISTRY.get_sample_value("ingest_channel_paused", {"channel": "blinkit"}) == 1

    await eventually(gauge_says_paused, what="ingest_channel_paused for blinkit")

    unknown = await ingest.post("/channels/ebay/pause", headers=TOKENS.bearer("admin"))
    assert unknown.status_code == 422
    assert unknown.json()["error"]["code"] == "validation_error"
