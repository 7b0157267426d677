"""Amazon orders through the Selling Partner API, for real or against the simulator.

A page is one ``getOrders`` page (``LastUpdatedAfter`` and ``MarketplaceIds``, then
``NextToken``), each order completed with its items from ``getOrderItems`` (paged by its own
``NextToken``), so the channel's normalizer sees an order as before: ``OrderItems`` inline.

Buyer name, email and the full shipping address come only with a restricted data token (Tokens
API ``createRestrictedDataToken`` for ``GET /orders/v0/orders`` with the ``buyerInfo`` and
``shippingAddress`` data elements), kept until shortly before it expires. An application without
Amazon's restricted role is refused one: then orders arrive without the buyer's details (the
normalizer says so on the order) rather than not at all. No token is ever logged.

Sign-in, pacing per usage plan and the answer to throttling are ``orderhub_common.amazon_sp_api``'s.
What fails is a ``ChannelFeedError`` of the right kind; the poller keeps its cursor until a page
succeeds, so a throttled or failed page is read again, never skipped. A page fans out into one
``getOrderItems`` per order, so one failed item read must not cost the whole page: each is tried
a few times (``ITEM_READ_ATTEMPTS``), and the items already read are kept for the page's next
attempt (keyed by the order and its ``LastUpdateDate``, so a changed order is read again).

Sandbox (an endpoint containing ``sandbox``: Amazon's own, or the simulator's): Amazon's static
sandbox answers only its documented test cases, so the connector asks for them: ``getOrders``
with ``CreatedAfter=TEST_CASE_200_NEXT_TOKEN`` (two pages), ``getOrderItems`` for
``TEST_CASE_200``, and no restricted data token (the sandbox has no case for ``getOrders``').
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from loguru import logger

from ingest.connectors.base import (
    ApiErrorKind,
    ChannelConnector,
    ChannelFeedError,
    ConnectorInfo,
    ConnectorMode,
    ListedBy,
    NativePage,
)
from orderhub_common.amazon_sp_api import (
    SpApiClient,
    SpApiError,
    SpApiFailure,
    error_of,
    refused_token,
)
from orderhub_common.events import Channel

CONNECTOR = "amazon-sp-api-orders-v0"
ORDERS_PATH = "/orders/v0/orders"
PII_ELEMENTS = ["buyerInfo", "shippingAddress"]
RDT_LEEWAY_S = 60.0
SANDBOX_ORDERS_CASE = "TEST_CASE_200_NEXT_TOKEN"
SANDBOX_ITEMS_CASE = "TEST_CASE_200"
ITEM_READ_ATTEMPTS = 4
ITEM_RETRY_S = 0.1
ITEMS_KEPT = 2000
_BEGINNING = datetime(2000, 1, 1, tzinfo=UTC)
_FAILURES = {
    SpApiFailure.THROTTLED: (ApiErrorKind.THROTTLED, True),
    SpApiFailure.UNREACHABLE: (ApiErrorKind.UNREACHABLE, True),
    SpApiFailure.SIGN_IN_REFUSED: (ApiErrorKind.EXPIRED_TOKEN, False),
}


class AmazonConnector(ChannelConnector):
    channel = Channel.AMAZON
    resolution = timedelta(seconds=1)

    def __init__(self, client: SpApiClient, *, item_reads_at_once: int = 4) -> None:
        self.client = client
        self.connection = client.connection
        self._item_reads = asyncio.Semaphore(item_reads_at_once)
        self._rdt: str | None = None
        self._rdt_expires_at = 0.0
        self._restricted_role = True  # until Amazon refuses the application an RDT
        self._items: OrderedDict[tuple[str, str], list[Any]] = OrderedDict()

    @property
    def info(self) -> ConnectorInfo:
        mode = ConnectorMode.SIMULATED if self.connection.simulated else ConnectorMode.LIVE
        return ConnectorInfo(CONNECTOR, mode, self.connection.endpoint, self.connection.sandbox)

    async def close(self) -> None:
        await self.client.close()

    async def fetch(
        self,
        *,
        since: datetime | None,
        token: str | None,
        limit: int,
        by: ListedBy = ListedBy.CHANGE,
    ) -> NativePage:
        params: dict[str, Any] = {"MarketplaceIds": ",".join(self.connection.marketplace_ids)}
        if self.connection.sandbox:
            params["CreatedAfter"] = SANDBOX_ORDERS_CASE
        else:
            params["MaxResultsPerPage"] = limit
            if not token:
                name = "CreatedAfter" if by is ListedBy.PLACEMENT else "LastUpdatedAfter"
                params[name] = _amazon_time(since or _BEGINNING)
        if token:
            params["NextToken"] = token
        payload = _payload(await self._get_orders(params))
        orders = payload.get("Orders")
        if not isinstance(orders, list):
            raise self._error(ApiErrorKind.UNREADABLE, "getOrders: Orders is not a list", False)
        await asyncio.gather(*(self._complete(order) for order in orders))
        return NativePage(orders, payload.get("NextToken") or None)

    async def _get_orders(self, params: dict[str, Any]) -> httpx.Response:
        restricted = await self._restricted_token()
        try:
            return await self._call(
                "getOrders", "GET", ORDERS_PATH, params=params, restricted_token=restricted
            )
        except ChannelFeedError as exc:
            if restricted is None or exc.kind != ApiErrorKind.EXPIRED_TOKEN:
                raise
        # The restricted data token ended before its time (Amazon revoked it): a new one, once.
        self._rdt = None
        return await self._call(
            "getOrders",
            "GET",
            ORDERS_PATH,
            params=params,
            restricted_token=await self._restricted_token(),
        )

    async def _complete(self, order: dict[str, Any]) -> None:
        """The order's items, every page of them, inline as the normalizer reads them."""
        key = (str(order.get("AmazonOrderId")), str(order.get("LastUpdateDate")))
        if key not in self._items:
            async with self._item_reads:
                self._items[key] = await self._read_items(key[0])
            while len(self._items) > ITEMS_KEPT:
                self._items.popitem(last=False)
        order["OrderItems"] = self._items[key]

    async def _read_items(self, order_id: str) -> list[Any]:
        if self.connection.sandbox:
            order_id = SANDBOX_ITEMS_CASE
        items: list[Any] = []
        token: str | None = None
        while True:
            params = {"NextToken": token} if token else None
            response = await self._item_page(f"{ORDERS_PATH}/{order_id}/orderItems", params)
            payload = _payload(response)
            page = payload.get("OrderItems")
            if not isinstance(page, list):
                raise self._error(
                    ApiErrorKind.UNREADABLE, "getOrderItems: OrderItems is not a list", False
                )
            items.extend(page)
            token = payload.get("NextToken") or None
            if token is None:
                return items

    async def _item_page(self, path: str, params: dict[str, str] | None) -> httpx.Response:
        for attempt in range(1, ITEM_READ_ATTEMPTS + 1):
            try:
                return await self._call("getOrderItems", "GET", path, params=params)
            except ChannelFeedError as exc:
                if not exc.retryable or attempt == ITEM_READ_ATTEMPTS:
                    raise
            await asyncio.sleep(ITEM_RETRY_S * 2**attempt)
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _restricted_token(self) -> str | None:
        if self.connection.sandbox or not self._restricted_role:
            return None
        if self._rdt is not None and time.monotonic() < self._rdt_expires_at - RDT_LEEWAY_S:
            return self._rdt
        body = {
            "restrictedResources": [
                {"method": "GET", "path": ORDERS_PATH, "dataElements": PII_ELEMENTS}
            ]
        }
        try:
            response = await self._call(
                "createRestrictedDataToken",
                "POST",
                "/tokens/2021-03-01/restrictedDataToken",
                json=body,
            )
        except ChannelFeedError as exc:
            if exc.kind != ApiErrorKind.REFUSED:
                raise
            self._restricted_role = False
            logger.warning(
                "Amazon refused a restricted data token (the application lacks the restricted "
                "role?): orders arrive without buyer name, email and full address"
            )
            return None
        answer = response.json()
        self._rdt = str(answer["restrictedDataToken"])
        self._rdt_expires_at = time.monotonic() + float(answer.get("expiresIn", 3600))
        return self._rdt

    async def _call(self, operation: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self.client.call(operation, method, path, **kwargs)
        except SpApiError as exc:
            kind, retryable = _FAILURES[exc.failure]
            raise self._error(kind, str(exc), retryable) from None
        if response.is_success:
            return response
        status = response.status_code
        code, message = error_of(response)
        detail = f"{operation} answered {status} {code}: {message}".strip()
        if status >= 500:
            raise self._error(ApiErrorKind.UNAVAILABLE, detail, True)
        if refused_token(response):
            raise self._error(ApiErrorKind.EXPIRED_TOKEN, detail, False)
        raise self._error(ApiErrorKind.REFUSED, detail, False)

    def _error(self, kind: ApiErrorKind, detail: str, retryable: bool) -> ChannelFeedError:
        return ChannelFeedError(self.channel, detail, retryable=retryable, kind=kind)


def _payload(response: httpx.Response) -> dict[str, Any]:
    try:
        payload = response.json()["payload"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ChannelFeedError(
            Channel.AMAZON,
            f"unreadable answer: {exc!r}",
            retryable=False,
            kind=ApiErrorKind.UNREADABLE,
        ) from None
    if not isinstance(payload, dict):
        raise ChannelFeedError(
            Channel.AMAZON,
            "the payload is not an object",
            retryable=False,
            kind=ApiErrorKind.UNREADABLE,
        )
    return payload


def _amazon_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
