"""Login with Amazon and restricted data tokens, as the simulator's one seller grants them.

- ``POST /auth/o2/token`` (form): ``grant_type=refresh_token`` with the application's client id
  and secret and the seller's refresh token gives an access token (``Atza|...``) for
  ``access_token_ttl_s``; anything else is LWA's own 400/401 ``{"error", "error_description"}``.
- ``createRestrictedDataToken`` gives an RDT (``Atz.sprdt|...``) for the restricted resources
  asked for (method, path, data elements); an RDT opens exactly those, for an hour.
- ``expire_all`` ends every token at once (the control API's way to let a test see an access
  token expire before the client expected it).
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

ACCESS_TOKEN_PREFIX = "Atza|"  # noqa: S105 - a prefix, not a secret
RDT_PREFIX = "Atz.sprdt|"
RDT_TTL_S = 3600
# The Orders API's restricted operations (Tokens API use case guide), by path template.
RESTRICTED_PATHS = (
    "/orders/v0/orders",
    "/orders/v0/orders/{orderId}",
    "/orders/v0/orders/{orderId}/address",
    "/orders/v0/orders/{orderId}/buyerInfo",
    "/orders/v0/orders/{orderId}/orderItems",
    "/orders/v0/orders/{orderId}/orderItems/buyerInfo",
)
DATA_ELEMENTS = frozenset({"buyerInfo", "shippingAddress", "buyerTaxInformation"})
_ORDER_ID = "[^/]+"


@dataclass(frozen=True)
class RestrictedResource:
    method: str
    path: str  # a template ("{orderId}") or a specific order's path
    data_elements: frozenset[str]

    def opens(self, method: str, path: str) -> bool:
        pattern = re.escape(self.path).replace(re.escape("{orderId}"), _ORDER_ID)
        return method == self.method and re.fullmatch(pattern, path) is not None


@dataclass
class Grant:
    """What a presented token allows: every unrestricted call, or an RDT's resources."""

    expires_at: float
    restricted: tuple[RestrictedResource, ...] = field(default_factory=tuple)

    def data_elements(self, method: str, path: str) -> frozenset[str]:
        return frozenset().union(
            *(r.data_elements for r in self.restricted if r.opens(method, path))
        )


class TokenRefusedError(Exception):
    """Why a token does not open a call: absent, unknown or expired."""


class SignIn:
    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        access_token_ttl_s: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = (client_id, client_secret)
        self._refresh_token = refresh_token
        self._ttl_s = access_token_ttl_s
        self._clock = clock
        self._grants: dict[str, Grant] = {}
        self.sign_ins = 0

    def exchange(self, form: dict[str, str]) -> tuple[int, dict[str, object]]:
        """LWA's token endpoint: (HTTP status, JSON answer)."""
        if form.get("grant_type") != "refresh_token":
            return 400, _lwa_error("unsupported_grant_type", "Only refresh_token is supported")
        client = (form.get("client_id", ""), form.get("client_secret", ""))
        if not all(secrets.compare_digest(a, b) for a, b in zip(client, self._client, strict=True)):
            return 401, _lwa_error("invalid_client", "Client authentication failed")
        if not secrets.compare_digest(form.get("refresh_token", ""), self._refresh_token):
            return 400, _lwa_error("invalid_grant", "The request has an invalid grant parameter")
        token = ACCESS_TOKEN_PREFIX + secrets.token_urlsafe(24)
        self._grants[token] = Grant(self._clock() + self._ttl_s)
        self.sign_ins += 1
        return 200, {
            "access_token": token,
            "refresh_token": self._refresh_token,
            "token_type": "bearer",
            "expires_in": self._ttl_s,
        }

    def grant(self, token: str | None) -> Grant:
        if not token:
            raise TokenRefusedError("")
        grant = self._grants.get(token)
        if grant is None:
            raise TokenRefusedError(
                "The access token you provided is revoked, malformed or invalid."
            )
        if self._clock() >= grant.expires_at:
            raise TokenRefusedError("The access token you provided has expired.")
        return grant

    def restricted_data_token(self, resources: tuple[RestrictedResource, ...]) -> dict[str, object]:
        token = RDT_PREFIX + secrets.token_urlsafe(24)
        self._grants[token] = Grant(self._clock() + RDT_TTL_S, resources)
        return {"restrictedDataToken": token, "expiresIn": RDT_TTL_S}

    def expire_all(self) -> None:
        for grant in self._grants.values():
            grant.expires_at = 0.0

    def revoke_all(self) -> None:
        self._grants.clear()


def _lwa_error(code: str, description: str) -> dict[str, object]:
    return {"error": code, "error_description": description}
