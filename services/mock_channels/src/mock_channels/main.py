"""Three simulated sales channels with native feeds, a control API and fault injection."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from fastapi import FastAPI

from mock_channels.amazon_sp.sign_in import SignIn
from mock_channels.amazon_sp.usage_plans import UsagePlans
from mock_channels.api import amazon, amazon_sandbox, control, feeds, status_updates
from mock_channels.persistence import ChannelDatabase
from mock_channels.settings import MockChannelsSettings
from mock_channels.shopify import graphql_api
from mock_channels.shopify.cost import CostBucket
from mock_channels.shopify.webhooks import WebhookSender
from mock_channels.store import ChannelStore
from orderhub_common.app import create_service_app, serve
from orderhub_common.ratelimit import RateLimit
from orderhub_common.resources import Worker
from orderhub_common.settings import load_settings
from orderhub_common.shopify import SIMULATOR_ADMIN_TOKEN

SERVICE = "mock_channels"


@dataclass
class SimulatedShop:
    """The website's Shopify side: the token it accepts, its cost bucket, its webhooks."""

    admin_token: str
    bucket: CostBucket
    webhooks: WebhookSender


def create_app(
    settings: MockChannelsSettings, *, webhook_transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    """``webhook_transport`` lets tests deliver the webhooks to an in-process ingest."""
    database = ChannelDatabase(settings.database) if settings.database else None
    store = ChannelStore(seed=settings.seed, seed_orders=settings.seed_orders, database=database)
    token, secret = settings.shopify_admin_token, settings.shopify_webhook_secret
    shop = SimulatedShop(
        token.get_secret_value() if token else SIMULATOR_ADMIN_TOKEN,
        CostBucket(settings.shopify_cost_bucket, settings.shopify_restore_rate),
        # Without a secret there is nothing to sign with: no webhooks.
        WebhookSender(
            settings.shopify_webhook_url if secret else None,
            secret.get_secret_value().encode() if secret else b"",
            webhook_transport,
        ),
    )
    store.subscribe(shop.webhooks.on_change)
    simulated_amazon = amazon.AmazonSimulator(
        SignIn(
            client_id=settings.amazon_lwa_client_id,
            client_secret=settings.amazon_lwa_client_secret.get_secret_value(),
            refresh_token=settings.amazon_lwa_refresh_token.get_secret_value(),
            access_token_ttl_s=settings.amazon_access_token_ttl_s,
        ),
        UsagePlans(settings.amazon_usage_plan_scale),
        settings.amazon_items_per_page,
    )
    return create_service_app(
        settings=settings,
        rate_limit=RateLimit("mock_channels", settings.rate_limit_per_ip_per_min, None),
        title="Order Hub mock channels",
        description=(
            "Simulated website (Shopify Admin GraphQL: token, cost bucket, signed webhooks) and "
            "Blinkit feeds, Amazon's Selling Partner API "
            "(Login with Amazon, Tokens, Orders v0, usage plans, static sandbox), "
            "with the control API used by tests, demos and load runs where it is turned on."
        ),
        # Off, the control API does not exist: 404, as any unknown path.
        routers=[
            feeds.router,
            graphql_api.router,
            status_updates.router,
            amazon_sandbox.router,
            amazon.router,
            *([amazon.control_router, control.router] if settings.control_api else []),
        ],
        state={"store": store, "shopify": shop, "amazon": simulated_amazon},
        workers=lambda: (
            [Worker("shopify-webhooks", shop.webhooks.run)] if shop.webhooks.url else []
        ),
    )


def run() -> None:
    settings = load_settings(MockChannelsSettings)
    serve(SERVICE, settings, lambda: create_app(settings))
