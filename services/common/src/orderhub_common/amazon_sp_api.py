"""Amazon's Selling Partner API as Order Hub's seller application calls it: Login with Amazon
sign-in, each operation paced to its usage plan, throttling and expired tokens answered.

Both services that talk to Amazon use it: ingest's connector reads orders
(``ingest.connectors.amazon``) and orders' write-back sends shipment updates
(``orders.write_back``). They are the same seller application with the same credentials, so the
sign-in and the pacing live here once; what each service asks Amazon stays with that service.

- Sign-in: the refresh grant of Login with Amazon (``grant_type=refresh_token``, client id and
  secret in the form, as LWA expects), by Authlib's async OAuth 2 client. The access token is
  kept until ``TOKEN_LEEWAY_S`` before it expires and sent as ``x-amz-access-token``. An answer
  that says the token expired anyway (Amazon's clock, a revoked token) signs in again once.
- Usage plans: a token bucket per operation at the documented rate and burst
  (``USAGE_PLANS``). Amazon says in ``x-amzn-RateLimit-Limit`` which rate applies to this seller;
  the bucket takes it. A 429 empties the bucket and the call waits one refill interval (doubling,
  capped) before asking again, up to ``throttle_retries`` times: the caller's cursor is its own
  and untouched until a call succeeds.
- Secrets (client secret, refresh token, access and restricted data tokens) are never logged and
  never put in an exception's message.
"""

from __future__ import annotations

import asyncio
import time
import warnings
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import httpx
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings

from orderhub_common.settings import env

with warnings.catch_warnings():
    # Authlib's httpx integration warns that it prefers the httpx2 fork; it works on httpx,
    # which every service already uses.
    warnings.simplefilter("ignore")
    from authlib.integrations.base_client.errors import OAuthError
    from authlib.integrations.httpx_client import AsyncOAuth2Client

ACCESS_TOKEN_HEADER = "x-amz-access-token"  # noqa: S105 - a header name
RATE_LIMIT_HEADER = "x-amzn-RateLimit-Limit"
TOKEN_LEEWAY_S = 60.0
SIMULATOR_PATH = "/amazon"
SIMULATOR_LWA_PATH = "/amazon/auth/o2/token"
# The simulator's development credentials (``.env.example`` holds the same).
SIMULATOR_CLIENT_ID = "amzn1.application-oa2-client.orderhub-simulator"
SIMULATOR_CLIENT_SECRET = "simulator-client-secret"  # noqa: S105 - the simulator's, public
SIMULATOR_REFRESH_TOKEN = "Atzr|orderhub-simulator-refresh-token"  # noqa: S105 - public


@dataclass(frozen=True)
class UsagePlan:
    rate: float  # requests per second
    burst: int


# Orders API v0 and Tokens API 2021-03-01, as their models document them (default plans).
USAGE_PLANS: dict[str, UsagePlan] = {
    "getOrders": UsagePlan(0.0167, 20),
    "getOrder": UsagePlan(0.5, 30),
    "getOrderBuyerInfo": UsagePlan(0.5, 30),
    "getOrderAddress": UsagePlan(0.5, 30),
    "getOrderItems": UsagePlan(0.5, 30),
    "getOrderItemsBuyerInfo": UsagePlan(0.5, 30),
    "updateShipmentStatus": UsagePlan(5.0, 15),
    "getOrderRegulatedInfo": UsagePlan(0.5, 30),
    "updateVerificationStatus": UsagePlan(0.5, 30),
    "confirmShipment": UsagePlan(2.0, 10),
    "createRestrictedDataToken": UsagePlan(1.0, 10),
}


class AmazonSpApiSettings(BaseSettings):
    """The seller application's connection; unset endpoints mean the simulator."""

    amazon_sp_api_endpoint: str | None = Field(
        None,
        validation_alias=env("AMAZON_SP_API_ENDPOINT"),
        description=(
            "base URL of the Selling Partner API, e.g. https://sellingpartnerapi-eu.amazon.com "
            "(Amazon.in) or its sandbox https://sandbox.sellingpartnerapi-eu.amazon.com; unset: "
            "the simulator at MOCK_CHANNELS_URL/amazon (its sandbox: .../amazon/sandbox)"
        ),
    )
    amazon_lwa_endpoint: str | None = Field(
        None,
        validation_alias=env("AMAZON_LWA_ENDPOINT"),
        description=(
            "Login with Amazon token URL, https://api.amazon.com/auth/o2/token; unset: the "
            "simulator's (MOCK_CHANNELS_URL/amazon/auth/o2/token)"
        ),
    )
    amazon_lwa_client_id: str = Field(
        SIMULATOR_CLIENT_ID,
        min_length=1,
        validation_alias=env("AMAZON_LWA_CLIENT_ID"),
        description="the LWA client id of the seller application (Developer Central)",
    )
    amazon_lwa_client_secret: SecretStr = Field(
        SecretStr(SIMULATOR_CLIENT_SECRET),
        validation_alias=env("AMAZON_LWA_CLIENT_SECRET"),
        description="the LWA client secret of the seller application",
    )
    amazon_lwa_refresh_token: SecretStr = Field(
        SecretStr(SIMULATOR_REFRESH_TOKEN),
        validation_alias=env("AMAZON_LWA_REFRESH_TOKEN"),
        description="the refresh token the seller's authorization of the application gave",
    )
    amazon_marketplace_ids: str = Field(
        "A21TJRUUN4KGV",
        pattern=r"^[A-Z0-9]+(,[A-Z0-9]+)*$",
        validation_alias=env("AMAZON_MARKETPLACE_IDS"),
        description="marketplaces read (comma-separated; A21TJRUUN4KGV is Amazon.in)",
    )

    def amazon_connection(self, mock_channels_url: str) -> AmazonConnection:
        simulator = mock_channels_url.rstrip("/")
        endpoint = (self.amazon_sp_api_endpoint or simulator + SIMULATOR_PATH).rstrip("/")
        return AmazonConnection(
            endpoint=endpoint,
            lwa_endpoint=self.amazon_lwa_endpoint or simulator + SIMULATOR_LWA_PATH,
            client_id=self.amazon_lwa_client_id,
            client_secret=self.amazon_lwa_client_secret,
            refresh_token=self.amazon_lwa_refresh_token,
            marketplace_ids=tuple(self.amazon_marketplace_ids.split(",")),
            simulated=endpoint.startswith(simulator),
        )


@dataclass(frozen=True)
class AmazonConnection:
    endpoint: str
    lwa_endpoint: str
    client_id: str
    client_secret: SecretStr
    refresh_token: SecretStr
    marketplace_ids: tuple[str, ...]
    simulated: bool

    @property
    def sandbox(self) -> bool:
        return "sandbox" in self.endpoint


class SpApiFailure(StrEnum):
    UNREACHABLE = "unreachable"
    THROTTLED = "throttled"
    SIGN_IN_REFUSED = "sign_in_refused"


class SpApiError(Exception):
    """A call that could not be made: sign-in refused, still throttled, unreachable. Any other
    answer (2xx, 4xx, 5xx) is the caller's to read."""

    def __init__(self, failure: SpApiFailure, detail: str) -> None:
        super().__init__(detail)
        self.failure = failure


class Pacer:
    """A token bucket at a usage plan's rate and burst."""

    def __init__(
        self,
        plan: UsagePlan,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.rate = plan.rate
        self.burst = plan.burst
        self._tokens = float(plan.burst)
        self._clock = clock
        self._sleep = sleep
        self._at = clock()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now

    async def take(self) -> None:
        async with self._lock:
            self._refill()
            if self._tokens < 1:
                await self._sleep((1 - self._tokens) / self.rate)
                self._refill()
            self._tokens -= 1

    def rate_seen(self, header: str | None) -> None:
        """The rate Amazon says applies to this seller and operation."""
        try:
            rate = float(header) if header else 0.0
        except ValueError:
            return
        if rate > 0:
            self.rate = rate

    def throttled(self) -> None:
        self._refill()
        self._tokens = min(self._tokens, 0.0)


class SpApiClient:
    """Signed, paced calls to one seller's Selling Partner API."""

    def __init__(
        self,
        connection: AmazonConnection,
        *,
        timeout_s: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        throttle_retries: int = 5,
        max_backoff_s: float = 60.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.connection = connection
        self.http = httpx.AsyncClient(
            base_url=connection.endpoint, timeout=timeout_s, transport=transport
        )
        self._oauth = AsyncOAuth2Client(
            connection.client_id,
            connection.client_secret.get_secret_value(),
            token_endpoint_auth_method="client_secret_post",  # noqa: S106 - a method's name
            leeway=int(TOKEN_LEEWAY_S),
            timeout=timeout_s,
            transport=transport,
        )
        self.pacers = {op: Pacer(plan, sleep=sleep) for op, plan in USAGE_PLANS.items()}
        self._throttle_retries = throttle_retries
        self._max_backoff_s = max_backoff_s
        self._sleep = sleep
        self._token: str | None = None
        self._expires_at = 0.0
        self._sign_in_lock = asyncio.Lock()
        self.sign_ins = 0  # how many times this client signed in (tests, the connection test)

    async def close(self) -> None:
        await self.http.aclose()
        await self._oauth.aclose()

    async def access_token(self) -> str:
        """The cached access token, or a new one when it expires within ``TOKEN_LEEWAY_S``."""
        async with self._sign_in_lock:
            if self._token is None or time.monotonic() >= self._expires_at - TOKEN_LEEWAY_S:
                await self._sign_in()
            assert self._token is not None
            return self._token

    async def _sign_in(self) -> None:
        self._token = None
        try:
            token = await self._oauth.refresh_token(
                self.connection.lwa_endpoint,
                refresh_token=self.connection.refresh_token.get_secret_value(),
            )
        except OAuthError as exc:
            # The LWA error code only (invalid_grant, invalid_client): never the request.
            raise SpApiError(
                SpApiFailure.SIGN_IN_REFUSED, f"Login with Amazon refused: {exc.error}"
            ) from None
        except httpx.HTTPError as exc:
            raise SpApiError(
                SpApiFailure.UNREACHABLE, f"Login with Amazon unreachable: {type(exc).__name__}"
            ) from None
        except ValueError:  # not a token answer (an HTML error page, say)
            raise SpApiError(
                SpApiFailure.SIGN_IN_REFUSED, "Login with Amazon gave no token"
            ) from None
        self._token = str(token["access_token"])
        self._expires_at = time.monotonic() + float(token.get("expires_in", 3600))
        self.sign_ins += 1

    async def call(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        restricted_token: str | None = None,
    ) -> httpx.Response:
        """One operation, paced, signed (by ``restricted_token`` when given), retried while
        throttled and once after Amazon refused the access token (expired or revoked)."""
        pacer = self.pacers[operation]
        backoff = 0.0
        signed_in_again = False
        throttled = 0
        while True:
            await pacer.take()
            token = restricted_token or await self.access_token()
            try:
                response = await self.http.request(
                    method,
                    path,
                    params=params,
                    json=json,
                    headers={ACCESS_TOKEN_HEADER: token, **(headers or {})},
                )
            except httpx.HTTPError as exc:
                raise SpApiError(
                    SpApiFailure.UNREACHABLE, f"{operation} unreachable: {exc!r}"
                ) from None
            pacer.rate_seen(response.headers.get(RATE_LIMIT_HEADER))
            if response.status_code == 429:
                throttled += 1
                if throttled > self._throttle_retries:
                    raise SpApiError(
                        SpApiFailure.THROTTLED,
                        f"{operation} still throttled (429) after {self._throttle_retries} waits",
                    )
                # One refill interval at the rate Amazon just named, doubling while it lasts.
                pacer.throttled()
                backoff = min(self._max_backoff_s, max(2 * backoff, 1 / pacer.rate))
                await self._sleep(backoff)
                continue
            if refused_token(response) and restricted_token is None and not signed_in_again:
                signed_in_again = True
                async with self._sign_in_lock:
                    if self._token == token:
                        self._token = None
                continue
            return response


def error_of(response: httpx.Response) -> tuple[str, str]:
    """The first SP-API error's code and message (``{"errors": [{code, message, details}]}``)."""
    try:
        first = response.json()["errors"][0]
        message = str(first.get("message", ""))
        if first.get("details"):
            message = f"{message} {first['details']}"
        return str(first.get("code", "")), message[:300]
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return "", f"HTTP {response.status_code}"


def refused_token(response: httpx.Response) -> bool:
    """Amazon refused the access token itself: it expired early, or it was revoked (the seller
    authorized the application again), so a fresh sign-in may open the call. A refusal for a
    missing role names no token and is answered as it came."""
    if response.status_code not in (401, 403):
        return False
    code, message = error_of(response)
    return code == "Unauthorized" and "access token" in message.lower()
