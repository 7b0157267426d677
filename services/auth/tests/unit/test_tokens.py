from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

import pytest

from auth.keys import SigningKeys, generate_signing_key
from auth.tokens import AccessTokenIssuer, new_refresh_token, refresh_token_digest
from orderhub_common.security import JwtVerifier, JwtVerifySettings, Role

pytestmark = pytest.mark.unit

NOW = 1_800_000_000


@pytest.fixture
def keys() -> SigningKeys:
    key = generate_signing_key("Ed25519", "k1")
    return SigningKeys(active=key, published=(key,))


@pytest.fixture
def issuer(keys: SigningKeys) -> AccessTokenIssuer:
    return AccessTokenIssuer(
        lambda: keys,
        algorithm="Ed25519",
        issuer="orderhub-auth",
        audience="orderhub",
        ttl_s=900,
        clock=lambda: NOW,
    )


def decoded(part: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return value


def test_access_tokens_carry_the_contract_claims_and_the_kid(issuer: AccessTokenIssuer) -> None:
    token = issuer.issue("user-1", Role.VIEWER)

    header, claims = (decoded(part) for part in token.token.split(".")[:2])
    assert header == {"typ": "JWT", "alg": "Ed25519", "kid": "k1"}
    assert set(claims) == {"sub", "role", "iat", "exp", "iss", "aud", "jti", "ver"}
    assert claims["sub"] == "user-1"
    assert claims["role"] == "viewer"
    assert claims["exp"] - claims["iat"] == 900 == token.expires_in
    assert (claims["iss"], claims["aud"]) == ("orderhub-auth", "orderhub")


def test_every_access_token_has_its_own_jti(issuer: AccessTokenIssuer) -> None:
    tokens = [issuer.issue("user-1", Role.ADMIN).token for _ in range(3)]

    assert len({decoded(token.split(".")[1])["jti"] for token in tokens}) == 3


async def test_the_shared_verifier_accepts_what_auth_issues(
    issuer: AccessTokenIssuer, keys: SigningKeys
) -> None:
    async def published() -> Mapping[str, Any]:
        return keys.public_jwks()

    verifier = JwtVerifier(JwtVerifySettings(), jwks_source=published, clock=lambda: NOW + 60)

    principal = await verifier.verify(issuer.issue("user-1", Role.ADMIN).token)

    assert (principal.user_id, principal.role) == ("user-1", Role.ADMIN)


def test_refresh_tokens_are_random_and_stored_only_as_digests() -> None:
    token = new_refresh_token()

    assert token != new_refresh_token()
    assert len(token) >= 43
    assert token not in refresh_token_digest(token)
    assert refresh_token_digest(token) == refresh_token_digest(token)


async def test_a_token_names_its_user_by_email_for_the_services(
    issuer: AccessTokenIssuer, keys: SigningKeys
) -> None:
    async def published() -> Mapping[str, Any]:
        return keys.public_jwks()

    verifier = JwtVerifier(JwtVerifySettings(), jwks_source=published, clock=lambda: NOW + 60)
    token = issuer.issue("user-1", Role.ADMIN, "asha@example.com").token

    assert decoded(token.split(".")[1])["email"] == "asha@example.com"
    assert (await verifier.verify(token)).email == "asha@example.com"
    assert (await verifier.verify(issuer.issue("user-2", Role.ADMIN).token)).email is None
