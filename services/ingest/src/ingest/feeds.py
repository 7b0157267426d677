"""HTTP clients of the simulated channels' feeds: build the native query, return the native page.

Each is a ``ChannelConnector`` (``ingest.connectors``); a channel with a real connector (Amazon:
``ingest.connectors.amazon``) uses that one instead. Each channel gets its own connection pool,
so a slow channel cannot starve the others.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from ingest.connectors.base import (
    ApiErrorKind,
    ChannelConnector,
    ChannelFeedError,
    ConnectorInfo,
    ConnectorMode,
    ListedBy,
    NativeOrders,
    NativePage,
)
from orderhub_common.events import Channel

__all__ = ["FEEDS", "ChannelFeed", "ChannelFeedError", "NativePage"]
_BEGINNING = datetime(2000, 1, 1, tzinfo=UTC)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class ChannelFeed(ChannelConnector):
    """One simulated channel's feed; subclasses know the paths, parameters and envelopes."""

    channel: Channel
    path: str
    resolution: timedelta  # the precision of the feed's timestamps and of its time filter

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    @property
    def info(self) -> ConnectorInfo:
        return ConnectorInfo(
            f"{self.channel}-simulated-feed", ConnectorMode.SIMULATED, str(self.client.base_url)
        )

    async def close(self) -> None:
        await self.client.aclose()

    async def fetch(
        self,
        *,
        since: datetime | None,
        token: str | None,
        limit: int,
        by: ListedBy = ListedBy.CHANGE,
    ) -> NativePage:
        params = self.page_params(token, limit) if token else self.first_params(since, limit, by)
        try:
            response = await self.client.get(self.path, params=params)
        except httpx.TransportError as exc:
            raise ChannelFeedError(
                self.channel, f"{exc!r}", retryable=True, kind=ApiErrorKind.UNREACHABLE
            ) from exc
        if response.status_code >= 500 or response.status_code == 429:
            kind = ApiErrorKind.THROTTLED if response.status_code == 429 else None
            raise ChannelFeedError(
                self.channel, f"answered {response.status_code}", retryable=True, kind=kind
            )
        if response.status_code != 200:
            raise ChannelFeedError(
                self.channel,
                f"rejected the read with {response.status_code}: {response.text[:200]}",
                retryable=False,
            )
        try:
            return self.parse(response)
        except (ValueError, KeyError, TypeError) as exc:
            raise ChannelFeedError.unreadable_page(self.channel, exc) from exc

    def first_params(self, since: datetime | None, limit: int, by: ListedBy) -> dict[str, Any]:
        raise NotImplementedError

    def page_params(self, token: str, limit: int) -> dict[str, Any]:
        raise NotImplementedError

    def parse(self, response: httpx.Response) -> NativePage:
        raise NotImplementedError


def _orders(value: Any) -> NativeOrders:
    if not isinstance(value, list):
        raise TypeError(f"orders must be a list, got {type(value).__name__}")
    return value


class BlinkitFeed(ChannelFeed):
    channel = Channel.BLINKIT
    path = "/blinkit/v1/orders"
    resolution = timedelta(milliseconds=1)

    def first_params(self, since: datetime | None, limit: int, by: ListedBy) -> dict[str, Any]:
        since_ms = ((since or _BEGINNING) - _EPOCH) // timedelta(milliseconds=1)
        name = "created_since_ms" if by is ListedBy.PLACEMENT else "updated_since_ms"
        return {name: since_ms, "limit": limit}

    def page_params(self, token: str, limit: int) -> dict[str, Any]:
        return {"cursor": token, "limit": limit}

    def parse(self, response: httpx.Response) -> NativePage:
        body = response.json()
        return NativePage(_orders(body["orders"]), body.get("next_cursor"))


# Amazon and the website have connectors of their own (ingest.connectors.amazon, .shopify).
FEEDS: dict[Channel, type[ChannelFeed]] = {
    Channel.BLINKIT: BlinkitFeed,
}
