"""Three simulated sales channels with native feeds, a control API and fault injection."""

from __future__ import annotations

from fastapi import FastAPI

from mock_channels.amazon_sp.sign_in import SignIn
from mock_channels.amazon_sp.usage_plans import UsagePlans
from mock_channels.api import amazon, amazon_sandbox, control, feeds, status_updates
from mock_channels.persistence import ChannelDatabase
from mock_channels.settings import MockChannelsSettings
from mock_channels.store import ChannelStore
from orderhub_common.app import create_service_app, serve
from orderhub_common.ratelimit import RateLimit
from orderhub_common.settings import load_settings

SERVICE = "mock_channels"


def create_app(settings: MockChannelsSettings) -> FastAPI:
    database = ChannelDatabase(settings.database) if settings.database else None
    store = ChannelStore(seed=settings.seed, seed_orders=settings.seed_orders, database=database)
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
            "Simulated website (Shopify-like) and Blinkit feeds, Amazon's Selling Partner API "
            "(Login with Amazon, Tokens, Orders v0, usage plans, static sandbox), "
            "with the control API used by tests, demos and load runs where it is turned on."
        ),
        # Off, the control API does not exist: 404, as any unknown path.
        routers=[
            feeds.router,
            status_updates.router,
            amazon_sandbox.router,
            amazon.router,
            *([amazon.control_router, control.router] if settings.control_api else []),
        ],
        state={"store": store, "amazon": simulated_amazon},
    )


def run() -> None:
    settings = load_settings(MockChannelsSettings)
    serve(SERVICE, settings, lambda: create_app(settings))
