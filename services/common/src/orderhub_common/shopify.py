"""Shopify's Admin GraphQL API, as ingest (the orders query, webhooks) and orders (the write-back
mutations) both speak it: the endpoint, the custom app's access token, cost-based throttling,
and the webhook signature.

Throttling is Shopify's leaky bucket of query cost points: every answer carries
``extensions.cost`` (the requested and actual cost, and ``throttleStatus``: the bucket's maximum,
what is available now, and how many points come back a second). The client remembers the last
status and, before the next call, waits until the bucket holds what that call will ask for;
an answer of ``THROTTLED`` (nothing was executed) waits for the missing points and sends the
same call again, with the same variables, so a page cursor is never lost.

The official ``ShopifyAPI`` package was considered and not used: it is synchronous (urllib under
a process-wide session), which would block ingest's event loop or need a thread per call, it
does not pace to ``throttleStatus``, and it has no webhook check (its HMAC helper is the OAuth
redirect's); the webhook check is three lines of the standard library.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings

from orderhub_common.events import OrderStatus
from orderhub_common.settings import env

ACCESS_TOKEN_HEADER = "X-Shopify-Access-Token"  # noqa: S105 - a header's name
HMAC_HEADER = "X-Shopify-Hmac-Sha256"
WEBHOOK_ID_HEADER = "X-Shopify-Webhook-Id"
TOPIC_HEADER = "X-Shopify-Topic"
SHOP_DOMAIN_HEADER = "X-Shopify-Shop-Domain"
# The version pinned by default: a stable release, supported for a year after it ships.
DEFAULT_API_VERSION = "2025-10"
# The website simulator's own token, which it accepts unless told another: not a secret (it opens
# nothing but the simulator), so that `make up` works offline with no configuration.
SIMULATOR_ADMIN_TOKEN = "shpat_orderhub_simulator"  # noqa: S105
# Retries of a THROTTLED answer before the call counts as failed (its caller retries later).
_THROTTLED_ATTEMPTS = 6
_MAX_WAIT_S = 30.0


def graphql_path(api_version: str) -> str:
    return f"/admin/api/{api_version}/graphql.json"


def webhook_signature(secret: bytes, body: bytes) -> str:
    """``X-Shopify-Hmac-Sha256``: base64 of the HMAC-SHA256 of the raw body."""
    return base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest()).decode()


def signature_matches(secret: bytes, body: bytes, header: str | None) -> bool:
    if not header:
        return False
    return hmac.compare_digest(webhook_signature(secret, body).encode(), header.encode())


def order_gid(external_id: str) -> str:
    """An order's GraphQL id from its numeric (REST, ``legacyResourceId``) id."""
    return f"gid://shopify/Order/{external_id}"


_CONFIRMED_FINANCIAL = frozenset({"PAID", "AUTHORIZED", "PARTIALLY_PAID", "PARTIALLY_REFUNDED"})
_SHIPPED_FULFILLMENT = frozenset({"FULFILLED", "PARTIALLY_FULFILLED"})


def order_status(order: Mapping[str, Any]) -> OrderStatus:
    """The canonical status of an Admin GraphQL ``Order`` (Shopify spreads it over several
    fields), read in this order: ``cancelledAt`` set -> CANCELLED; a closed return -> RETURNED;
    fulfilled (or partially) with a delivered fulfilment -> DELIVERED, else SHIPPED; paid or
    authorized -> CONFIRMED; otherwise PLACED. Ingest reads it; orders' write-back checks it."""
    if order.get("cancelledAt"):
        return OrderStatus.CANCELLED
    returns = (order.get("returns") or {}).get("nodes") or []
    if any(r.get("status") == "CLOSED" for r in returns):
        return OrderStatus.RETURNED
    if order.get("displayFulfillmentStatus") in _SHIPPED_FULFILLMENT:
        shown = {f.get("displayStatus") for f in order.get("fulfillments") or []}
        return OrderStatus.DELIVERED if "DELIVERED" in shown else OrderStatus.SHIPPED
    if order.get("displayFinancialStatus") in _CONFIRMED_FINANCIAL:
        return OrderStatus.CONFIRMED
    return OrderStatus.PLACED


class ShopifyAdminSettings(BaseSettings):
    """Where the shop is and how to sign in: read by ingest (polls) and orders (write-back).

    Unset, both talk to the website simulator with its development token; a real shop
    (SHOPIFY_SHOP_URL) needs its own token."""

    shopify_shop_url: str | None = Field(
        None,
        pattern=r"^https?://[^/\s]+(/[^\s]*)?$",
        validation_alias=env("SHOPIFY_SHOP_URL"),
        description=(
            "the shop's base URL (https://<shop>.myshopify.com); unset: the website simulator "
            "at MOCK_CHANNELS_URL/website"
        ),
    )
    shopify_admin_token: SecretStr | None = Field(
        None,
        validation_alias=env("SHOPIFY_ADMIN_TOKEN"),
        description="the custom app's Admin API access token (X-Shopify-Access-Token); required"
        " with SHOPIFY_SHOP_URL (unset: the simulator's development token)",
    )
    shopify_api_version: str = Field(
        DEFAULT_API_VERSION,
        pattern=r"^(\d{4}-(01|04|07|10)|unstable)$",
        validation_alias=env("SHOPIFY_API_VERSION"),
        description="the Admin API version pinned (YYYY-MM, a quarterly release)",
    )

    @model_validator(mode="after")
    def _a_real_shop_needs_its_token(self) -> ShopifyAdminSettings:
        if self.shopify_shop_url and self.shopify_admin_token is None:
            raise ValueError("SHOPIFY_SHOP_URL needs SHOPIFY_ADMIN_TOKEN (the custom app's token)")
        return self

    def shopify_base_url(self, simulator_url: str) -> str:
        return self.shopify_shop_url or f"{simulator_url.rstrip('/')}/website"

    def shopify_token(self) -> SecretStr:
        return self.shopify_admin_token or SecretStr(SIMULATOR_ADMIN_TOKEN)


class ShopifyError(Exception):
    """A call failed. ``retryable``: asking again later may help; ``refused``: the shop
    answered and said no (a bad token, a GraphQL error), in plain words in the message."""

    def __init__(self, reason: str, *, retryable: bool, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.status = status


@dataclass(frozen=True)
class ThrottleStatus:
    maximum_available: float
    currently_available: float
    restore_rate: float

    @classmethod
    def of(cls, body: Mapping[str, Any]) -> ThrottleStatus | None:
        cost = (body.get("extensions") or {}).get("cost") or {}
        status = cost.get("throttleStatus")
        if not isinstance(status, dict):
            return None
        return cls(
            float(status["maximumAvailable"]),
            float(status["currentlyAvailable"]),
            float(status["restoreRate"]),
        )


def _requested_cost(body: Mapping[str, Any]) -> float | None:
    cost = (body.get("extensions") or {}).get("cost") or {}
    value = cost.get("requestedQueryCost")
    return float(value) if isinstance(value, int | float) else None


def _throttled(body: Mapping[str, Any]) -> bool:
    errors = body.get("errors")
    return isinstance(errors, list) and any(
        isinstance(e, dict) and (e.get("extensions") or {}).get("code") == "THROTTLED"
        for e in errors
    )


class ShopifyAdminClient:
    """One shop's Admin GraphQL endpoint, paced to its cost bucket."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        api_version: str,
        token: SecretStr,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.path = graphql_path(api_version)
        self._token = token
        self._sleep = sleep
        self._clock = clock
        self._status: ThrottleStatus | None = None
        self._status_at = 0.0
        self._last_requested: dict[str, float] = {}  # by query text

    @property
    def throttle_status(self) -> ThrottleStatus | None:
        return self._status

    async def execute(self, query: str, variables: Mapping[str, Any] | None = None) -> Any:
        """The answer's ``data``; raises ``ShopifyError``."""
        for _ in range(_THROTTLED_ATTEMPTS):
            await self._pace(self._last_requested.get(query, 0.0))
            body = await self._post(query, variables)
            requested = _requested_cost(body)
            if requested is not None:
                self._last_requested[query] = requested
            if _throttled(body):
                continue  # nothing ran; _pace waits for the points, the same call goes again
            errors = body.get("errors")
            if errors:
                raise ShopifyError(f"refused the query: {_messages(errors)}", retryable=False)
            return body.get("data")
        raise ShopifyError("throttled: the cost bucket did not refill in time", retryable=True)

    async def _pace(self, needed: float) -> None:
        status = self._status
        if status is None or needed <= 0:
            return
        elapsed = self._clock() - self._status_at
        available = min(
            status.maximum_available,
            status.currently_available + elapsed * status.restore_rate,
        )
        missing = min(needed, status.maximum_available) - available
        if missing > 0 and status.restore_rate > 0:
            await self._sleep(min(missing / status.restore_rate, _MAX_WAIT_S))

    async def _post(self, query: str, variables: Mapping[str, Any] | None) -> dict[str, Any]:
        headers = {ACCESS_TOKEN_HEADER: self._token.get_secret_value()}
        try:
            response = await self.client.post(
                self.path,
                json={"query": query, "variables": dict(variables or {})},
                headers=headers,
            )
        except httpx.TransportError as exc:
            raise ShopifyError(f"unreachable: {exc!r}", retryable=True) from exc
        status = response.status_code
        if status in {401, 403}:
            raise ShopifyError(
                f"refused the access token ({status}): check SHOPIFY_ADMIN_TOKEN and the app's "
                "scopes",
                retryable=False,
                status=status,
            )
        if status == 429 or status >= 500:
            raise ShopifyError(f"answered {status}", retryable=True, status=status)
        if status != 200:
            raise ShopifyError(
                f"rejected the call with {status}: {response.text[:200]}",
                retryable=False,
                status=status,
            )
        try:
            body = response.json()
        except ValueError as exc:
            raise ShopifyError(f"unreadable answer: {exc!r}", retryable=False) from exc
        if not isinstance(body, dict):
            raise ShopifyError("unreadable answer: not a JSON object", retryable=False)
        throttle = ThrottleStatus.of(body)
        if throttle is not None:
            self._status, self._status_at = throttle, self._clock()
        return body


def _messages(errors: Any) -> str:
    if isinstance(errors, list):
        return "; ".join(
            str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors
        )
    return str(errors)[:200]
