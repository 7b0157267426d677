"""One pure function per channel: a native order in, a canonical ``ChannelOrder`` out, or a
``NormalizationError`` that says what was wrong."""

from __future__ import annotations

from ingest.normalizers import amazon, blinkit, shopify
from ingest.normalizers.common import NativeOrder, Normalizer
from ingest.normalizers.errors import NormalizationError
from orderhub_common.events import Channel

NORMALIZERS: dict[Channel, Normalizer] = {
    # Shopify's GraphQL order (polls) or its REST order (webhooks): both, by their shape.
    Channel.WEBSITE: shopify.normalize,
    Channel.AMAZON: amazon.normalize,
    Channel.BLINKIT: blinkit.normalize,
}

__all__ = ["NORMALIZERS", "NativeOrder", "NormalizationError", "Normalizer"]
