from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any, cast

import httpx
import pytest
from joserfc.jwk import OKPKey
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from orderhub_common.errors import ServiceUnavailableError, UnauthorizedError
from orderhub_common.revocation import AccessRevocations
from orderhub_common.security import (
    JwtVerifier,
    JwtVerifySettings,
    Principal,
    Role,
    http_jwks_source,
    require_role,
)
from orderhub_common.settings import ServiceSettings
from orderhub_common.testing import protected_app, sign_test_token, signing_key, token_claims

pytestmark = pytest.mark.unit

NOW = 1_800_000_000.0


class FakeClock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


class FakeJwks:
    """The issuer's published key set, which tests can rotate or take down."""

    def __init__(self, *keys: OKPKey) -> None:
        self.keys = list(keys)
        self.down = False
        self.fetches = 0

    async def __call__(self) -> Mapping[str, Any]:
        self.fetches += 1
        if self.down:
            raise httpx.ConnectError("auth is down")
        return {"keys": [key.as_dict(private=False) for key in self.keys]}


def claims(**overrides: Any) -> dict[str, Any]:
    """An admin's claims at ``NOW``, valid for 900 s; an override of None drops that claim."""
    return token_claims(
        **{"role": "admin", "user_id": "user-1", "now": NOW, "ttl_s": 900, "jti": "token-1"}
        | overrides
    )


def mint(key: OKPKey, **overrides: Any) -> str:
    return sign_test_token(key, claims(**overrides))


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict[str, Any], body: dict[str, Any]) -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(body).encode())}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def key() -> OKPKey:
    return signing_key("k1")


@pytest.fixture
def jwks(key: OKPKey) -> FakeJwks:
    return FakeJwks(key)


@pytest.fixture
def verifier(jwks: FakeJwks, clock: FakeClock) -> JwtVerifier:
    return JwtVerifier(JwtVerifySettings(), jwks_source=jwks, clock=clock)


async def test_a_valid_token_names_the_user_role_and_expiry(
    verifier: JwtVerifier, key: OKPKey
) -> None:
    principal = await verifier.verify(mint(key, role="viewer"))

    assert principal.user_id == "user-1"
    assert principal.role is Role.VIEWER
    assert principal.jti == "token-1"
    assert principal.expires_at.timestamp() == NOW + 900


async def test_alg_none_is_refused(verifier: JwtVerifier, key: OKPKey) -> None:
    token = unsigned({"alg": "none", "kid": key.kid}, claims()) + "."

    with pytest.raises(UnauthorizedError, match="algorithm"):
        await verifier.verify(token)


async def test_hmac_signed_with_the_public_key_is_refused(
    verifier: JwtVerifier, key: OKPKey
) -> None:
    # The classic confusion: HS256 keyed with the published public key bytes.
    signing_input = unsigned({"alg": "HS256", "kid": key.kid}, claims(role="admin"))
    public_key = key.as_dict(private=False)["x"].encode()
    signature = hmac.new(public_key, signing_input.encode(), hashlib.sha256).digest()

    with pytest.raises(UnauthorizedError, match="algorithm"):
        await verifier.verify(f"{signing_input}.{b64(signature)}")


async def test_a_changed_payload_is_refused(verifier: JwtVerifier, key: OKPKey) -> None:
    header, _, signature = mint(key, role="viewer").split(".")
    forged_body = b64(json.dumps(claims(role="admin")).encode())

    with pytest.raises(UnauthorizedError, match="not valid"):
        await verifier.verify(f"{header}.{forged_body}.{signature}")


async def test_a_token_from_a_foreign_key_with_a_known_kid_is_refused(
    verifier: JwtVerifier,
) -> None:
    with pytest.raises(UnauthorizedError, match="not valid"):
        await verifier.verify(mint(signing_key("k1")))


@pytest.mark.parametrize(
    "overrides",
    [
        {"aud": "another-audience"},
        {"iss": "someone-else"},
        {"role": "superuser"},
        {"role": ["admin"]},
        {"sub": None},
        {"jti": None},
        {"exp": None},
    ],
    ids=["aud", "iss", "unknown-role", "role-list", "no-sub", "no-jti", "no-exp"],
)
async def test_tokens_with_wrong_or_missing_claims_are_refused(
    verifier: JwtVerifier, key: OKPKey, overrides: dict[str, Any]
) -> None:
    with pytest.raises(UnauthorizedError):
        await verifier.verify(mint(key, **overrides))


async def test_an_expired_token_is_refused_past_the_leeway(
    verifier: JwtVerifier, key: OKPKey, clock: FakeClock
) -> None:
    token = mint(key, exp=int(NOW) + 60)
    clock.now = NOW + 60 + 3
    assert (await verifier.verify(token)).user_id == "user-1"

    clock.now = NOW + 60 + 6
    with pytest.raises(UnauthorizedError, match="expired") as refused:
        await verifier.verify(token)
    assert refused.value.headers == {"WWW-Authenticate": 'Bearer error="invalid_token"'}


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "é.é.é", "Bearer x.y.z"])
async def test_garbage_is_refused(verifier: JwtVerifier, garbage: str) -> None:
    with pytest.raises(UnauthorizedError, match="malformed"):
        await verifier.verify(garbage)


async def test_a_new_key_is_picked_up_on_first_sight_of_its_kid(
    verifier: JwtVerifier, jwks: FakeJwks, key: OKPKey, clock: FakeClock
) -> None:
    await verifier.verify(mint(key))
    new_key = signing_key("k2")
    jwks.keys.append(new_key)
    clock.now += 11

    assert (await verifier.verify(mint(new_key))).user_id == "user-1"
    assert jwks.fetches == 2


async def test_unknown_kids_refetch_at_most_once_per_interval(
    verifier: JwtVerifier, jwks: FakeJwks, key: OKPKey
) -> None:
    await verifier.verify(mint(key))
    for attempt in range(5):
        with pytest.raises(UnauthorizedError, match="unknown key"):
            await verifier.verify(mint(signing_key(f"forged-{attempt}")))

    assert jwks.fetches == 1


async def test_cached_keys_keep_working_while_auth_is_down(
    verifier: JwtVerifier, jwks: FakeJwks, key: OKPKey, clock: FakeClock
) -> None:
    await verifier.verify(mint(key))
    jwks.down = True
    clock.now += 600

    principal = await verifier.verify(mint(key, exp=int(clock.now) + 60))

    assert principal.user_id == "user-1"
    assert jwks.fetches == 2


async def test_without_any_keys_verification_is_unavailable_not_unauthorized(
    jwks: FakeJwks, key: OKPKey, clock: FakeClock
) -> None:
    jwks.down = True
    verifier = JwtVerifier(JwtVerifySettings(), jwks_source=jwks, clock=clock)

    with pytest.raises(ServiceUnavailableError):
        await verifier.verify(mint(key))


async def test_tokens_in_another_than_the_configured_algorithm_are_refused(
    jwks: FakeJwks, key: OKPKey, clock: FakeClock
) -> None:
    settings = JwtVerifySettings(jwt_algorithm="RS256")
    verifier = JwtVerifier(settings, jwks_source=jwks, clock=clock)

    with pytest.raises(UnauthorizedError, match="algorithm"):
        await verifier.verify(mint(key))


async def test_published_keys_of_another_type_or_use_are_never_used(
    key: OKPKey, clock: FakeClock
) -> None:
    async def published() -> Mapping[str, Any]:
        return {
            "keys": [
                {"kty": "oct", "kid": "shared", "k": b64(b"a-shared-secret")},
                {**signing_key("enc").as_dict(private=False), "kid": "enc", "use": "enc"},
                key.as_dict(private=False),
            ]
        }

    verifier = JwtVerifier(JwtVerifySettings(), jwks_source=published, clock=clock)
    assert (await verifier.verify(mint(key))).user_id == "user-1"

    for kid in ("shared", "enc"):
        with pytest.raises(UnauthorizedError, match="unknown key"):
            await verifier.verify(mint(signing_key(kid)))


async def test_the_http_source_reads_the_published_key_set(key: OKPKey) -> None:
    published = {"keys": [key.as_dict(private=False)]}
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=published))
    source = http_jwks_source("http://auth.test/.well-known/jwks.json", transport=transport)

    assert await source() == published


class ProtectedAppSettings(ServiceSettings, JwtVerifySettings):
    pass


@pytest.fixture
async def client(verifier: JwtVerifier) -> Any:
    transport = httpx.ASGITransport(app=protected_app(ProtectedAppSettings(), verifier))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def test_no_token_is_401_with_a_bearer_challenge(client: httpx.AsyncClient) -> None:
    response = await client.get("/mine", headers={"Authorization": "Basic dXNlcjpwdw=="})

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["error"]["code"] == "unauthorized"


async def test_a_bad_token_is_401_invalid_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/mine", headers={"Authorization": "Bearer not-a-token"})

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert response.json()["error"]["code"] == "unauthorized"


async def test_roles_gate_endpoints(client: httpx.AsyncClient, key: OKPKey) -> None:
    viewer = {"Authorization": f"Bearer {mint(key, role='viewer')}"}
    admin = {"Authorization": f"Bearer {mint(key, role='admin')}"}

    assert (await client.get("/mine", headers=viewer)).json() == {"userId": "user-1"}
    refused = await client.post("/admin-only", headers=viewer)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    assert (await client.post("/admin-only", headers=admin)).json() == {"role": "admin"}


class RedisDown(AccessRevocations):
    """Revocations whose Redis does not answer."""

    def __init__(self) -> None:
        super().__init__(cast(Redis, None))

    async def is_current(self, principal: Principal) -> bool:
        raise RedisConnectionError("connection refused")


async def test_while_revocations_cannot_be_read_reads_go_on_and_changes_are_refused(
    verifier: JwtVerifier, key: OKPKey
) -> None:
    # Issue 21, finding 4: a demoted admin must not change anything while nobody can tell.
    app = protected_app(ProtectedAppSettings(), verifier, access_revocations=RedisDown())
    admin = {"Authorization": f"Bearer {mint(key, role='admin')}"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        read = await client.get("/mine", headers=admin)
        change = await client.post("/admin-only", headers=admin)

    assert read.status_code == 200
    assert change.status_code == 503
    assert change.json()["error"]["code"] == "service_unavailable"
    assert change.headers["Retry-After"]


def test_require_role_needs_a_role() -> None:
    with pytest.raises(ValueError, match="at least one role"):
        require_role()
