from __future__ import annotations

import json
from typing import Any

import pytest
from joserfc.jwk import OKPKey, RSAKey

from auth.keys import SigningKeyError, SigningKeys, generate_signing_key

pytestmark = pytest.mark.unit


def private_jwk(kid: str) -> dict[str, Any]:
    return dict(generate_signing_key("Ed25519", kid).as_dict(private=True))


def test_the_last_key_signs_unless_another_is_named_active() -> None:
    key_set = {"keys": [private_jwk("old"), private_jwk("new")]}

    assert SigningKeys.from_jwk_set(key_set, algorithm="Ed25519").active_kid == "new"
    named = SigningKeys.from_jwk_set(key_set, algorithm="Ed25519", active_kid="old")
    assert named.active_kid == "old"
    assert [key["kid"] for key in named.public_jwks()["keys"]] == ["old", "new"]


def test_the_published_set_has_no_private_parts() -> None:
    keys = SigningKeys.from_jwk_set({"keys": [private_jwk("k")]}, algorithm="Ed25519")

    (published,) = keys.public_jwks()["keys"]
    assert "d" not in published
    assert OKPKey.import_key(published).is_private is False


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("not json", "not JSON"),
        ("[]", "JWK Set object"),
        ('{"keys": []}', "no keys"),
        (json.dumps({"keys": [private_jwk("a"), private_jwk("a")]}), "share a kid"),
        (json.dumps({"keys": [{**private_jwk("a"), "kid": ""}]}), "needs a kid"),
        (
            json.dumps({"keys": [OKPKey.generate_key("Ed25519").as_dict(private=False)]}),
            "needs a kid",
        ),
        (
            json.dumps({"keys": [{k: v for k, v in private_jwk("pub").items() if k != "d"}]}),
            "no private part",
        ),
        (
            json.dumps({"keys": [dict(RSAKey.generate_key(2048).as_dict(kid="rsa"))]}),
            "does not fit",
        ),
    ],
    ids=["not-json", "not-object", "empty", "same-kid", "blank-kid", "no-kid", "public", "rsa"],
)
def test_unusable_key_sets_are_refused_with_the_reason(text: str, problem: str) -> None:
    with pytest.raises(SigningKeyError, match=problem):
        SigningKeys.parse(text, algorithm="Ed25519")


def test_an_unknown_active_kid_is_refused() -> None:
    with pytest.raises(SigningKeyError, match="JWT_ACTIVE_KID"):
        SigningKeys.parse(
            json.dumps({"keys": [private_jwk("a")]}), algorithm="Ed25519", active_kid="b"
        )


@pytest.mark.parametrize(
    ("algorithm", "kty"), [("Ed25519", "OKP"), ("ES256", "EC"), ("RS256", "RSA")]
)
def test_generated_keys_fit_their_algorithm(algorithm: Any, kty: str) -> None:
    key = generate_signing_key(algorithm, "k")

    assert key.key_type == kty
    assert key.kid == "k"
    assert key.is_private
