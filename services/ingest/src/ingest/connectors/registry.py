"""Which connector each channel runs, built from ingest's settings.

Amazon: the Selling Partner API connector (against Amazon or the simulator, as configured).
The website: Shopify's Admin GraphQL API (the simulator unless SHOPIFY_SHOP_URL names a shop).
Blinkit has no public seller API: always its simulated feed. A channel without a connector of
its own reads its simulated feed too.
"""

from __future__ import annotations

import httpx

from ingest.connectors.amazon import AmazonConnector
from ingest.connectors.base import ChannelConnector
from ingest.connectors.shopify import ShopifyConnector
from ingest.feeds import FEEDS
from ingest.settings import IngestSettings
from orderhub_common.amazon_sp_api import SpApiClient
from orderhub_common.events import Channel


def build_connector(
    channel: Channel,
    settings: IngestSettings,
    transport: httpx.AsyncBaseTransport | None = None,
) -> ChannelConnector:
    """``transport`` lets tests reach an in-process mock_channels app."""
    if channel == Channel.AMAZON:
        client = SpApiClient(
            settings.amazon_connection(settings.mock_channels_url),
            timeout_s=settings.channel_timeout_s,
            transport=transport,
        )
        return AmazonConnector(client)
    base_url = settings.mock_channels_url
    if channel == Channel.WEBSITE:
        base_url = settings.shopify_base_url(settings.mock_channels_url)
    http = httpx.AsyncClient(
        base_url=base_url,
        timeout=settings.channel_timeout_s,
        limits=httpx.Limits(max_connections=4, max_keepalive_connections=2),
        transport=transport,
    )
    if channel == Channel.WEBSITE:
        return ShopifyConnector(
            http,
            api_version=settings.shopify_api_version,
            token=settings.shopify_token(),
            simulated=settings.shopify_shop_url is None,
        )
    return FEEDS[channel](http)
