"""The stack's public interfaces as the bench and the demo data use them (sync httpx).

The gateway caches order reads for a while and a channel's new orders do not invalidate that
cache, so every read whose answer must be fresh carries a ``from`` filter that matches every
order but differs on each call: a key the cache has never seen.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

# Before any order of this system: as a ``from`` filter it keeps every order.
_LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)
RATE_LIMIT_WAIT_MAX_S = 60
# A service may be restarted at any time (by supervisord, by a developer); reads that need an
# answer wait this long for it.
UNAVAILABLE_WAIT_S = 60
_UNAVAILABLE = frozenset({502, 503, 504})


class StackNotUpError(RuntimeError):
    pass


class ApiError(RuntimeError):
    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Credentials:
    email: str
    password: str


def cache_busting_from(n: int, since: datetime = _LONG_AGO) -> str:
    """The ``n``-th distinct ``from`` value for orders placed since ``since``: ``n``
    microseconds earlier, which adds no order unless one was placed in that instant."""
    return (since - timedelta(microseconds=n)).isoformat().replace("+00:00", "Z")


def wait_out_rate_limit(response: httpx.Response) -> None:
    """Sleeps for a 429's ``Retry-After`` (at most a minute)."""
    retry_after = response.headers.get("Retry-After", "")
    time.sleep(min(RATE_LIMIT_WAIT_MAX_S, int(retry_after) if retry_after.isdigit() else 5))


class OrderHub:
    """Signed-in access to the gateway plus the mock channels' control API."""

    def __init__(
        self,
        *,
        gateway_url: str,
        channels_url: str,
        credentials: Credentials,
        timeout_s: float = 120,
    ) -> None:
        self.gateway_url = gateway_url
        self.channels_url = channels_url
        self._credentials = credentials
        self._http = httpx.Client(timeout=timeout_s, limits=httpx.Limits(max_connections=32))
        self._access_token: str | None = None
        self._fresh_keys = itertools.count(random.randrange(10**9))  # noqa: S311 - not a secret

    def close(self) -> None:
        self._http.close()

    # The stack -------------------------------------------------------------------------------
    def ensure_up(self) -> None:
        """Raises StackNotUpError, naming what does not answer, unless gateway and channels do."""
        for what, url in (("gateway", self.gateway_url), ("mock channels", self.channels_url)):
            try:
                response = self._http.get(f"{url}/readyz", timeout=5)
            except httpx.HTTPError as exc:
                raise StackNotUpError(
                    f"the {what} does not answer at {url} ({type(exc).__name__}); "
                    "is the stack up? Start it with `make up`."
                ) from exc
            if response.status_code != 200:
                raise StackNotUpError(
                    f"the {what} at {url} is not ready ({response.status_code}: "
                    f"{response.text[:200]}); see `make status` and .run/logs/."
                )

    # The public API --------------------------------------------------------------------------
    def sign_in(self, credentials: Credentials | None = None) -> dict[str, Any]:
        """Signs in (as these credentials, else the bench's own) and returns the token pair."""
        who = credentials or self._credentials
        response = self._patiently(
            lambda: self._http.post(
                f"{self.gateway_url}/api/auth/login",
                json={"email": who.email, "password": who.password},
            )
        )
        if response.status_code != 200:
            raise ApiError(
                f"sign-in as {who.email}: {response.status_code} {response.text[:200]}",
                response.status_code,
            )
        tokens: dict[str, Any] = response.json()
        if credentials is None:
            self._access_token = tokens["accessToken"]
        return tokens

    def get(
        self,
        path: str,
        params: dict[str, Any] | None = None,
        placed_since: datetime | None = None,
        *,
        wait_out_limits: bool = True,
        within_a_second: bool = False,
    ) -> httpx.Response:
        """A signed-in GET of an order list or stats (of orders placed since ``placed_since``,
        if given), never answered from the gateway's cache: ``from`` is moved earlier by a
        distinct number of microseconds (up to minutes; under a second with
        ``within_a_second``). With ``wait_out_limits=False`` a 429 is returned as it came (a
        timed read must not count the wait in its latency)."""
        query = dict(params or {})
        since = placed_since or _LONG_AGO
        key = next(self._fresh_keys)
        query["from"] = cache_busting_from(key % 1_000_000 if within_a_second else key, since)
        response = self._signed_in_get(path, query, wait_out_limits)
        if response.status_code == 401:  # the token expired during a long wait
            self._access_token = None
            response = self._signed_in_get(path, query, wait_out_limits)
        return response

    def _signed_in_get(
        self, path: str, query: dict[str, Any], wait_out_limits: bool
    ) -> httpx.Response:
        if self._access_token is None:
            self.sign_in()

        def send() -> httpx.Response:
            return self._http.get(
                f"{self.gateway_url}/api{path}",
                params=query,
                headers={"Authorization": f"Bearer {self._access_token}"},
            )

        return self._patiently(send) if wait_out_limits else send()

    def admin_call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """A signed-in call of the bench's admin (user administration); the answer's JSON."""
        if self._access_token is None:
            self.sign_in()
        response = self._patiently(
            lambda: self._http.request(
                method,
                f"{self.gateway_url}/api{path}",
                json=body,
                headers={"Authorization": f"Bearer {self._access_token}"},
            )
        )
        if not response.is_success:
            raise ApiError(
                f"{method} /api{path}: {response.status_code} {response.text[:300]}",
                response.status_code,
            )
        return response.json()

    @staticmethod
    def _patiently(send: Callable[[], httpx.Response]) -> httpx.Response:
        """Sends, and once more after ``Retry-After`` (at most a minute) if rate limited."""
        response = send()
        if response.status_code == 429:
            wait_out_rate_limit(response)
            response = send()
        return response

    def get_json(
        self,
        path: str,
        params: dict[str, Any] | None = None,
        placed_since: datetime | None = None,
    ) -> dict[str, Any]:
        """The answer's body, waiting out a service that restarts (up to UNAVAILABLE_WAIT_S)."""
        deadline = time.monotonic() + UNAVAILABLE_WAIT_S
        while True:
            try:
                response = self.get(path, params, placed_since)
            except (httpx.TransportError, ApiError) as exc:
                unavailable = not isinstance(exc, ApiError) or exc.status in _UNAVAILABLE
                if not unavailable or time.monotonic() > deadline:
                    raise
            else:
                if response.status_code == 200:
                    body: dict[str, Any] = response.json()
                    return body
                if response.status_code not in _UNAVAILABLE or time.monotonic() > deadline:
                    raise ApiError(
                        f"GET /api{path}: {response.status_code} {response.text[:300]}",
                        response.status_code,
                    )
            time.sleep(2)

    def stored_total(self, placed_since: datetime | None = None) -> int:
        """Orders stored (placed since ``placed_since``, if given)."""
        page = self.get_json("/orders", {"limit": 1}, placed_since)
        return int(page["pagination"]["total"])

    def list_orders(self, **params: Any) -> list[dict[str, Any]]:
        orders: list[dict[str, Any]] = self.get_json("/orders", params)["orders"]
        return orders

    def find_by_external_id(self, external_id: str) -> dict[str, Any] | None:
        for order in self.list_orders(search=external_id, limit=5):
            if order["externalId"] == external_id:
                return order
        return None

    def rate_limits(self) -> str:
        """The limits the gateway reports to this client (``X-RateLimit-Limit``)."""
        response = self.get("/orders", {"limit": 1})
        return response.headers.get("X-RateLimit-Limit", "not reported")

    # The mock channels' control API ----------------------------------------------------------
    def create_orders(
        self,
        channel: str,
        count: int,
        placed_between: tuple[datetime, datetime] | None = None,
    ) -> list[str]:
        body: dict[str, Any] = {"count": count}
        if placed_between is not None:
            body["placedFrom"] = placed_between[0].isoformat()
            body["placedTo"] = placed_between[1].isoformat()
        response = self._http.post(f"{self.channels_url}/_control/{channel}/orders", json=body)
        if response.status_code != 200:
            # Off (the default outside the development, test and demo stacks) it does not exist.
            off = response.status_code == 404 and "channel_not_found" not in response.text
            hint = " (is MOCK_CHANNELS_CONTROL_API=true set for the mock channels?)" if off else ""
            raise ApiError(
                f"creating {count} {channel} orders: {response.status_code} "
                f"{response.text[:300]}{hint}",
                response.status_code,
            )
        created: list[str] = response.json()["created"]
        return created

    def move_at_channel(self, channel: str, external_id: str, status: str) -> None:
        response = self._http.post(
            f"{self.channels_url}/_control/{channel}/orders/{external_id}/status",
            json={"status": status},
        )
        if response.status_code != 200:
            raise ApiError(
                f"moving {channel} {external_id} to {status}: {response.status_code}",
                response.status_code,
            )
