"""Three simulated sales channels with native feeds, a control API and fault injection."""

from __future__ import annotations

from fastapi import FastAPI

from mock_channels.api import control, feeds, status_updates
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
    return create_service_app(
        settings=settings,
        rate_limit=RateLimit("mock_channels", settings.rate_limit_per_ip_per_min, None),
        title="Order Hub mock channels",
        description=(
            "Simulated website (Shopify-like), Amazon (SP-API-like) and Blinkit feeds, "
            "with the control API used by tests, demos and load runs where it is turned on."
        ),
        # Off, the control API does not exist: 404, as any unknown path.
        routers=[
            feeds.router,
            status_updates.router,
            *([control.router] if settings.control_api else []),
        ],
        state={"store": store},
    )


def run() -> None:
    settings = load_settings(MockChannelsSettings)
    serve(SERVICE, settings, lambda: create_app(settings))
