"""Which connector each channel runs, built from ingest's settings.

Amazon: the Selling Partner API connector (against Amazon or the simulator, as configured).
Blinkit has no public seller API: always its simulated feed. A channel without a connector of
its own reads its simulated feed too.
"""

from __future__ import annotations

import httpx

from ingest.connectors.amazon import AmazonConnector
from ingest.connectors.base import ChannelConnector
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
    return FEEDS[channel](
        httpx.AsyncClient(
            base_url=settings.mock_channels_url,
            timeout=settings.channel_timeout_s,
            limits=httpx.Limits(max_connections=4, max_keepalive_connections=2),
            transport=transport,
        )
    )
