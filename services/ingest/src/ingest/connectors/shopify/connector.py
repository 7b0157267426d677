"""The orders query of Shopify's Admin GraphQL API, one page at a time, paced to the shop's cost
bucket (``orderhub_common.shopify.ShopifyAdminClient``).

A page is ``orders(first:, after:, query: "updated_at:>='<since>'", sortKey: UPDATED_AT)``
(listed by placement: ``created_at`` and ``CREATED_AT``); its ``pageInfo.endCursor`` is the page
token, sent back as ``after`` with the same filter and sort. A
THROTTLED answer waits for the bucket and asks for the same page again (the client), so the
cursor is never lost; a throttled call that still fails is a retryable ``ChannelFeedError``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx
from pydantic import SecretStr

from ingest.connectors.base import (
    ApiErrorKind,
    ChannelConnector,
    ChannelFeedError,
    ConnectionCheck,
    ConnectorInfo,
    ConnectorMode,
    ListedBy,
    NativePage,
)
from orderhub_common.events import Channel
from orderhub_common.shopify import ShopifyAdminClient, ShopifyError

_BEGINNING = datetime(2000, 1, 1, tzinfo=UTC)
# Orders per page and line items per order: one page's requested cost (about 40 points an order)
# stays well under the standard plan's 1000-point bucket.
ORDERS_PER_PAGE = 15
LINE_ITEMS_PER_ORDER = 10

ORDERS_QUERY = """
query Orders(
  $first: Int!, $after: String, $query: String, $sortKey: OrderSortKeys!, $lineItems: Int!
) {
  orders(first: $first, after: $after, query: $query, sortKey: $sortKey) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id
      legacyResourceId
      name
      email
      phone
      createdAt
      updatedAt
      cancelledAt
      cancelReason
      displayFinancialStatus
      displayFulfillmentStatus
      paymentGatewayNames
      tags
      note
      currencyCode
      totalPriceSet { shopMoney { amount currencyCode } }
      customer { firstName lastName email phone }
      shippingAddress { name phone address1 address2 city province zip countryCodeV2 }
      lineItems(first: $lineItems) {
        nodes { sku title quantity originalUnitPriceSet { shopMoney { amount currencyCode } } }
      }
      fulfillments(first: 2) { displayStatus trackingInfo(first: 1) { company number } }
      returns(first: 1) { nodes { status } }
    }
  }
}
"""

CHECK_QUERY = "query Check { orders(first: 1, sortKey: UPDATED_AT) { nodes { id } } }"


# The search field and the sort key of each listing.
_LISTINGS = {
    ListedBy.CHANGE: ("updated_at", "UPDATED_AT"),
    ListedBy.PLACEMENT: ("created_at", "CREATED_AT"),
}


def search_since(since: datetime, by: ListedBy = ListedBy.CHANGE) -> str:
    """Shopify's search syntax; its ``updated_at`` and ``created_at`` have second precision."""
    moment = since.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return f"{_LISTINGS[by][0]}:>='{moment}'"


def feed_error(exc: ShopifyError) -> ChannelFeedError:
    if exc.status in {401, 403}:
        kind = ApiErrorKind.EXPIRED_TOKEN
    elif exc.reason.startswith("throttled"):
        kind = ApiErrorKind.THROTTLED
    elif exc.reason.startswith("unreachable"):
        kind = ApiErrorKind.UNREACHABLE
    elif exc.retryable:
        kind = ApiErrorKind.UNAVAILABLE
    elif exc.reason.startswith("unreadable"):
        kind = ApiErrorKind.UNREADABLE
    else:
        kind = ApiErrorKind.REFUSED
    return ChannelFeedError(Channel.WEBSITE, exc.reason, retryable=exc.retryable, kind=kind)


class ShopifyConnector(ChannelConnector):
    channel = Channel.WEBSITE
    resolution = timedelta(seconds=1)

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        api_version: str,
        token: SecretStr,
        simulated: bool,
    ) -> None:
        self.admin = ShopifyAdminClient(client, api_version=api_version, token=token)
        self._simulated = simulated

    @property
    def info(self) -> ConnectorInfo:
        mode = ConnectorMode.SIMULATED if self._simulated else ConnectorMode.LIVE
        return ConnectorInfo("shopify-admin-graphql", mode, str(self.admin.client.base_url))

    async def fetch(
        self,
        *,
        since: datetime | None,
        token: str | None,
        limit: int,
        by: ListedBy = ListedBy.CHANGE,
    ) -> NativePage:
        variables = {
            "first": min(limit, ORDERS_PER_PAGE),
            "after": token,
            "query": search_since(since or _BEGINNING, by),
            "sortKey": _LISTINGS[by][1],
            "lineItems": LINE_ITEMS_PER_ORDER,
        }
        try:
            data = await self.admin.execute(ORDERS_QUERY, variables)
            orders = data["orders"]
            nodes = orders["nodes"]
            if not isinstance(nodes, list):
                raise TypeError("orders.nodes is not a list")
            page_info = orders["pageInfo"]
        except ShopifyError as exc:
            raise feed_error(exc) from exc
        except (KeyError, TypeError) as exc:
            raise ChannelFeedError.unreadable_page(self.channel, exc) from exc
        next_token = page_info.get("endCursor") if page_info.get("hasNextPage") else None
        return NativePage(nodes, next_token)

    async def check_connection(self) -> ConnectionCheck:
        """One cheap query (one order id): the token is accepted and the scope reads orders."""
        started = time.perf_counter()
        try:
            await self.admin.execute(CHECK_QUERY)
        except ShopifyError as exc:
            return ConnectionCheck(False, str(feed_error(exc)), _ms_since(started))
        return ConnectionCheck(True, "signed in and read the order list", _ms_since(started))

    async def close(self) -> None:
        await self.admin.client.aclose()


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
