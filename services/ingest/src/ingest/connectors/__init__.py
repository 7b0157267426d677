"""Channel connectors: what ingest reads orders through, one per channel (see ``base``).

Each platform's connector lives in its own package beside this one (``amazon/``, ``shopify/``);
channels without one (Blinkit, which has no public seller API) use the simulated feeds of
``ingest.feeds``.
"""

from ingest.connectors.base import (
    ApiErrorKind,
    ChannelConnector,
    ChannelFeedError,
    ConnectionCheck,
    ConnectorInfo,
    ConnectorMode,
    ListedBy,
    NativeOrders,
    NativePage,
)

__all__ = [
    "ApiErrorKind",
    "ChannelConnector",
    "ChannelFeedError",
    "ConnectionCheck",
    "ConnectorInfo",
    "ConnectorMode",
    "ListedBy",
    "NativeOrders",
    "NativePage",
]
