"""The website's connector against the Shopify simulator, with real Kafka and Redis: the custom
app's token accepted and refused, cursor paging, THROTTLED answered by pacing and retry with no
order lost or doubled, webhooks (valid, invalid: 401, replayed: once), a missed webhook found by
the next poll."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from devstack.pytest_plugin import eventually
from ingest.api import shopify_webhooks
from ingest.connectors.shopify.webhooks import ShopifyWebhooks
from mock_channels.main import create_app as create_mock_channels
from mock_channels.settings import MockChannelsSettings
from mock_channels.shopify.cost import CostBucket
from orderhub_common.errors import install_error_handlers
from orderhub_common.events import Channel
from orderhub_common.shopify import webhook_signature

from .conftest import PollerKit, create_orders, ingest_settings
from .test_polling import poll, published

pytestmark = pytest.mark.integration

SECRET = "webhook-secret-for-tests"
WEBHOOK = "http://ingest/webhooks/shopify"


@pytest.fixture
def channels_app() -> FastAPI:
    # A small bucket that refills fast: one page of 4 orders asks for 202 points.
    return create_mock_channels(
        MockChannelsSettings(
            seed_orders=0,
            control_api=True,
            MOCK_SHOPIFY_COST_BUCKET=400,
            MOCK_SHOPIFY_RESTORE_RATE=2000,
        )
    )


def bucket(app: FastAPI) -> CostBucket:
    shop_bucket: CostBucket = app.state.shopify.bucket
    return shop_bucket


async def website_keys(kit: PollerKit) -> Counter[str]:
    return Counter(
        e.order.external_id for e in await published(kit) if e.order.channel == Channel.WEBSITE
    )


async def test_the_poll_signs_in_with_the_token_and_pages_by_cursor(
    kit: PollerKit, channels: httpx.AsyncClient
) -> None:
    created = await create_orders(channels, Channel.WEBSITE, 10)

    assert await poll(kit, Channel.WEBSITE) == 10, "POLL_PAGE_SIZE 4: three pages, one poll"

    assert await website_keys(kit) == dict.fromkeys(created, 1)
    assert await poll(kit, Channel.WEBSITE) == 0, "nothing new, nothing republished"


async def test_a_refused_token_is_reported_in_plain_words_and_publishes_nothing(
    kit: PollerKit, channels: httpx.AsyncClient, infra: Any, unique_name: str
) -> None:
    await create_orders(channels, Channel.WEBSITE, 2)
    kit.settings = ingest_settings(infra, unique_name, SHOPIFY_ADMIN_TOKEN="shpat_revoked")

    assert await poll(kit, Channel.WEBSITE) == 0

    [row] = [r for r in await kit.repository.statuses(frozenset()) if r.channel == "website"]
    assert row.last_error is not None
    assert "access token" in row.last_error
    assert "401" in row.last_error
    assert await website_keys(kit) == {}


class DrainingTransport(httpx.AsyncBaseTransport):
    """The shop's bucket emptied by someone else (the write-back spends the same app's points)
    before the calls ``drain_before`` picks."""

    def __init__(
        self, inner: httpx.AsyncBaseTransport, app: FastAPI, drain_before: Callable[[int], bool]
    ) -> None:
        self.inner, self.app, self.drain_before, self.calls = inner, app, drain_before, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if not (request.url.path.endswith("/graphql.json") and self.drain_before(self.calls)):
            return await self.inner.handle_async_request(request)
        # Empty, and refilling only once this call is answered: however slow the machine, the
        # call finds the bucket empty.
        shop_bucket = bucket(self.app)
        rate = shop_bucket.restore_rate
        shop_bucket.drain()
        shop_bucket.restore_rate = 0
        try:
            return await self.inner.handle_async_request(request)
        finally:
            shop_bucket.available()
            shop_bucket.restore_rate = rate


async def test_throttled_pages_are_paced_and_asked_again_without_losing_or_doubling_an_order(
    kit: PollerKit, channels: httpx.AsyncClient, channels_app: FastAPI
) -> None:
    created = await create_orders(channels, Channel.WEBSITE, 10)
    # The second page's first try finds the bucket empty: THROTTLED, nothing ran.
    kit.transport = DrainingTransport(kit.transport, channels_app, lambda call: call == 2)

    assert await poll(kit, Channel.WEBSITE) == 10

    assert bucket(channels_app).throttled >= 1, "the shop answered THROTTLED"
    assert await website_keys(kit) == dict.fromkeys(created, 1)


async def test_a_bucket_that_stays_empty_fails_the_poll_which_resumes_at_its_page(
    kit: PollerKit, channels: httpx.AsyncClient, channels_app: FastAPI
) -> None:
    created = await create_orders(channels, Channel.WEBSITE, 10)
    inner = kit.transport
    # From the second page on, every try finds the bucket empty.
    kit.transport = DrainingTransport(inner, channels_app, lambda call: call >= 2)

    assert await poll(kit, Channel.WEBSITE) == 4, "the first page only"
    [row] = [r for r in await kit.repository.statuses(frozenset()) if r.channel == "website"]
    assert row.last_error is not None
    assert "throttled" in row.last_error
    assert (await kit.repository.load_cursor(Channel.WEBSITE)).page_token, "the page is kept"

    kit.transport = inner
    assert await poll(kit, Channel.WEBSITE) == 6, "the rest, from the page it stopped at"
    # Every order arrived; the failed poll's fallback republished its last good page (the
    # poller's outage rule, harmless to orders), nothing else came twice.
    keys = await website_keys(kit)
    assert set(keys) == set(created)
    assert sum(keys.values()) <= len(created) + 4


@pytest.fixture
async def webhook_app(kit: PollerKit, redis: Redis) -> FastAPI:
    """Ingest's webhook endpoint, on the test's Redis and Kafka."""
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(shopify_webhooks.router)
    app.state.shopify_webhooks = ShopifyWebhooks(
        secret=kit.settings.shopify_webhook_secret,
        redis=redis,
        key_prefix=kit.settings.redis_key_prefix,
        dedup_ttl_s=60,
        repository=kit.repository,
        publisher=kit.publisher,
        paused_by_config=False,
    )
    return app


@pytest.fixture
def settings(infra: Any, unique_name: str) -> Any:
    return ingest_settings(infra, unique_name, SHOPIFY_WEBHOOK_SECRET=SECRET)


@pytest.fixture
async def ingest(webhook_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=webhook_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ingest") as client:
        yield client


async def native_order(channels: httpx.AsyncClient) -> tuple[str, bytes]:
    [external_id] = await create_orders(channels, Channel.WEBSITE, 1)
    shown = (await channels.get(f"/_control/website/orders/{external_id}")).json()
    return external_id, json.dumps(shown).encode()


def signed(body: bytes, webhook_id: str, secret: str = SECRET) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Shopify-Hmac-Sha256": webhook_signature(secret.encode(), body),
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-Topic": "orders/create",
    }


async def test_a_signed_webhook_is_published_and_its_redelivery_is_not(
    kit: PollerKit, channels: httpx.AsyncClient, ingest: httpx.AsyncClient
) -> None:
    external_id, body = await native_order(channels)

    first = await ingest.post("/webhooks/shopify", content=body, headers=signed(body, "w-1"))
    again = await ingest.post("/webhooks/shopify", content=body, headers=signed(body, "w-1"))

    assert first.status_code == again.status_code == 200
    assert first.json() == {"published": True, "outcome": "published"}
    assert again.json() == {"published": False, "outcome": "duplicate"}
    assert await website_keys(kit) == {external_id: 1}


@pytest.mark.parametrize(
    "forge",
    [
        lambda body: signed(body, "w-2", secret="not-the-apps-secret"),
        lambda body: {**signed(body, "w-2"), "X-Shopify-Hmac-Sha256": ""},
        lambda body: {k: v for k, v in signed(body, "w-2").items() if "Hmac" not in k},
        # Signed, then changed on the way: the signature no longer matches the body.
        lambda body: signed(body.replace(b'"INR"', b'"USD"'), "w-2"),
    ],
)
async def test_a_webhook_whose_signature_does_not_match_is_401_and_publishes_nothing(
    kit: PollerKit,
    channels: httpx.AsyncClient,
    ingest: httpx.AsyncClient,
    forge: Callable[[bytes], dict[str, str]],
) -> None:
    _, body = await native_order(channels)

    answer = await ingest.post("/webhooks/shopify", content=body, headers=forge(body))

    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "invalid_signature"
    assert await website_keys(kit) == {}
    # The id was not spent: the genuine delivery still goes through.
    genuine = await ingest.post("/webhooks/shopify", content=body, headers=signed(body, "w-2"))
    assert genuine.json()["outcome"] == "published"


async def test_a_signed_body_that_is_not_an_order_is_a_clear_4xx(
    kit: PollerKit, ingest: httpx.AsyncClient
) -> None:
    not_json = b"{not json"
    garbage = json.dumps({"id": 1, "line_items": "none"}).encode()

    bad = await ingest.post("/webhooks/shopify", content=not_json, headers=signed(not_json, "w-3"))
    odd = await ingest.post("/webhooks/shopify", content=garbage, headers=signed(garbage, "w-4"))

    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "invalid_webhook")
    assert (odd.status_code, odd.json()["error"]["code"]) == (422, "unreadable_order")
    assert await website_keys(kit) == {}


async def test_a_missed_webhook_is_found_by_the_next_poll(
    kit: PollerKit, webhook_app: FastAPI
) -> None:
    shop = create_mock_channels(
        MockChannelsSettings(
            seed_orders=0,
            control_api=True,
            MOCK_SHOPIFY_WEBHOOK_URL=WEBHOOK,
            MOCK_SHOPIFY_WEBHOOK_SECRET=SECRET,
        ),
        webhook_transport=httpx.ASGITransport(app=webhook_app),
    )
    kit.transport = httpx.ASGITransport(app=shop)
    async with shop.router.lifespan_context(shop):
        control = httpx.AsyncClient(transport=kit.transport, base_url="http://mock-channels")
        [delivered] = await create_orders(control, Channel.WEBSITE, 1)
        shop.state.shopify.webhooks.lose_next = 1  # Shopify gave up on this one
        [missed] = await create_orders(control, Channel.WEBSITE, 1)

        async def webhook_arrived() -> bool:
            return delivered in await website_keys(kit)

        await eventually(webhook_arrived, what="the delivered webhook to be published")
        assert missed not in await website_keys(kit)

        await poll(kit, Channel.WEBSITE)

    keys = await website_keys(kit)
    assert missed in keys, "the poll reconciles what no webhook brought"
    assert set(keys) == {delivered, missed}
    await control.aclose()
