"""Test helpers every service's suite shares: test orders, and access tokens signed by a key that
stands in for auth's, so a service under test verifies them exactly as it verifies auth's.

A test order is a valid canonical channel order (what ingest publishes) that a test changes only
where it cares::

    order_fields(externalId="BLK-1", channel="blinkit")  # the JSON shape, for raw events
    channel_order("402-1234567-1234567", channel="amazon", status=OrderStatus.SHIPPED)

Only tests import this module; no service code does. A service under test is given the stand-in
key set instead of auth's JWKS URL::

    issuer = FakeTokenIssuer()
    app.state.jwt_verifier = JwtVerifier(settings, jwks_source=issuer.jwks)
    await client.get("/orders", headers=issuer.bearer("viewer"))

Tokens carry the claims auth's tokens carry (``sub``, ``role``, ``iss``, ``aud``, ``iat``, ``exp``,
``jti``), with the issuer and audience every verifier expects by default, signed with Ed25519.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Annotated, Any

import httpx
from fastapi import Depends, FastAPI
from joserfc import jwt
from joserfc.jwk import Key, OKPKey
from pydantic import TypeAdapter
from pydantic.alias_generators import to_camel

from orderhub_common.app import create_service_app
from orderhub_common.events import ChannelOrder
from orderhub_common.security import (
    AccessCheck,
    CurrentPrincipal,
    JwtVerifier,
    JwtVerifySettings,
    Principal,
    Role,
    require_role,
)
from orderhub_common.settings import ServiceSettings

ORDER_PLACED_AT = "2026-11-01T10:00:00.000Z"
_AS_JSON: TypeAdapter[Any] = TypeAdapter(Any)


def order_fields(**overrides: Any) -> dict[str, Any]:
    """A valid canonical channel order in its JSON shape (CONTRACT.md section 5), with
    ``overrides`` replacing whole fields; a field may be named in snake_case or camelCase and
    given as a model, an enum or a datetime. Unless ``items`` is given, the order holds one item
    priced at its total, so an order with another total still adds up."""
    fields: dict[str, Any] = {
        "channel": "website",
        "externalId": "WEB-1",
        "customer": {
            "name": "Priya Sharma",
            "phone": "+91 98765 43210",
            "email": "priya@example.com",
        },
        "items": None,
        "total": 1500.0,
        "currency": "INR",
        "status": "PLACED",
        "placedAt": ORDER_PLACED_AT,
        "updatedAt": ORDER_PLACED_AT,
    }
    for name, value in overrides.items():
        fields[to_camel(name)] = _AS_JSON.dump_python(value, mode="json", by_alias=True)
    if fields["items"] is None:
        item = {"sku": "RING-18K-01", "name": "Gold ring", "qty": 1, "price": fields["total"]}
        fields["items"] = [item]
    return fields


def channel_order(external_id: str = "WEB-1", **overrides: Any) -> ChannelOrder:
    """:func:`order_fields` with this external id, as the model ingest publishes."""
    return ChannelOrder.model_validate(order_fields(external_id=external_id, **overrides))


_DEFAULTS = JwtVerifySettings()
TEST_ISSUER = _DEFAULTS.jwt_issuer
TEST_AUDIENCE = _DEFAULTS.jwt_audience
TEST_TOKEN_TTL_S = 900


def signing_key(kid: str = "test-key") -> OKPKey:
    """A fresh Ed25519 signing key named ``kid``."""
    return OKPKey.generate_key("Ed25519", parameters={"kid": kid, "use": "sig"})


def token_claims(
    role: str = "admin",
    *,
    user_id: str | None = None,
    now: float | None = None,
    ttl_s: int = TEST_TOKEN_TTL_S,
    **overrides: Any,
) -> dict[str, Any]:
    """The claims of an access token as auth issues it; an override of ``None`` drops a claim.

    Without ``user_id`` each token names a user of its own, so per-user state (rate limits,
    sessions) never couples two tests; ``jti`` is always unique unless overridden.
    """
    issued_at = int(time.time() if now is None else now)
    claims: dict[str, Any] = {
        "sub": user_id or f"user-{uuid.uuid4().hex[:8]}",
        "role": role,
        "iss": TEST_ISSUER,
        "aud": TEST_AUDIENCE,
        "iat": issued_at,
        "exp": issued_at + ttl_s,
        "jti": uuid.uuid4().hex,
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def sign_test_token(
    key: Key, claims: Mapping[str, Any], *, header: Mapping[str, Any] | None = None
) -> str:
    """``claims`` signed with ``key``; the header defaults to Ed25519 and the key's ``kid``."""
    protected = dict(header) if header is not None else {"alg": "Ed25519", "kid": key.kid}
    return jwt.encode(protected, dict(claims), key, algorithms=[str(protected["alg"])])


class FakeTokenIssuer:
    """Stands in for auth: one signing key, its published key set, and tokens signed with it."""

    def __init__(self, kid: str = "test-key") -> None:
        self.key = signing_key(kid)

    @property
    def kid(self) -> str:
        return str(self.key.kid)

    async def jwks(self) -> Mapping[str, Any]:
        """The published key set, as a ``JwksSource`` for ``JwtVerifier(jwks_source=...)``."""
        return {"keys": [self.key.as_dict(private=False)]}

    def mint(self, role: str = "admin", user_id: str | None = None, **claims: Any) -> str:
        """A signed access token; ``claims`` override or (with ``None``) drop claims."""
        return sign_test_token(self.key, token_claims(role, user_id=user_id, **claims))

    def bearer(
        self, role: str = "admin", user_id: str | None = None, **claims: Any
    ) -> dict[str, str]:
        """The ``Authorization`` header carrying ``mint(role, user_id, **claims)``."""
        return {"Authorization": f"Bearer {self.mint(role, user_id, **claims)}"}


def protected_app(
    settings: ServiceSettings, verifier: JwtVerifier, access_revocations: AccessCheck | None = None
) -> FastAPI:
    """A service with one route for anyone signed in (``GET /mine``: who asked) and one for
    admins (``POST /admin-only``: their role), checked by ``verifier`` as every service checks
    (and by ``access_revocations``; without one, tokens are checked by signature alone)."""
    app = create_service_app(
        settings=settings,
        title="protected",
        state={"jwt_verifier": verifier, "access_revocations": access_revocations},
    )

    @app.get("/mine")
    async def mine(principal: CurrentPrincipal) -> dict[str, str]:
        return {"userId": principal.user_id}

    @app.post("/admin-only")
    async def admin_only(
        principal: Annotated[Principal, Depends(require_role(Role.ADMIN))],
    ) -> dict[str, str]:
        return {"role": principal.role}

    return app


async def assert_limits_each_address(
    app: FastAPI, limit: int, path: str = "/probe", *, trusted_proxy: str | None = None
) -> None:
    """``app``'s own per-address rate limit (``orderhub_common.ratelimit``), set to ``limit`` a
    minute: one address gets ``limit`` answers, then 429 ``rate_limited`` with ``Retry-After``;
    another address is still answered, and so is the first one's health check. With
    ``trusted_proxy`` (in the app's ``FORWARDED_ALLOW_IPS``): the calls that proxy relays for
    the refused address are still answered, the edge having limited them."""
    # Fresh addresses each run: the counts of an earlier run may still be in the window.
    first, second = (f"198.18.{uuid.uuid4().int % 250}.{n}" for n in (1, 2))

    def client(address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        return httpx.AsyncClient(transport=transport, base_url="http://service")

    async with client(first) as caller, client(second) as other:
        answers = [(await caller.get(path)).status_code for _ in range(limit)]
        assert 429 not in answers, answers
        refused = await caller.get(path)
        assert refused.status_code == 429, refused.text
        assert refused.json()["error"]["code"] == "rate_limited"
        assert int(refused.headers["Retry-After"]) >= 1
        assert (await other.get(path)).status_code != 429
        assert (await caller.get("/healthz")).status_code == 200
        # A caller the service does not trust cannot pass for another address, or for relayed.
        forged = await caller.get(path, headers={"X-Forwarded-For": second})
        assert forged.status_code == 429, forged.text
    if trusted_proxy is None:
        return
    async with client(trusted_proxy) as proxy:
        relayed = [
            (await proxy.get(path, headers={"X-Forwarded-For": first})).status_code
            for _ in range(limit + 1)
        ]
        assert 429 not in relayed, relayed
        # The proxy calling on its own account is a caller like any other.
        own = [(await proxy.get(path)).status_code for _ in range(limit + 1)]
        assert own[-1] == 429, own
