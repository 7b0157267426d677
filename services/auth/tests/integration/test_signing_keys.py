from __future__ import annotations

import base64
import json
import stat
import tempfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc.jwk import OKPKey
from pymongo import AsyncMongoClient

from auth.keys import SigningKeyError, generate_signing_key, load_or_create_key_file

pytestmark = pytest.mark.integration


def header_of(token: str) -> dict[str, Any]:
    part = token.split(".")[0]
    header: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return header


async def test_the_jwks_publishes_only_public_keys(client: httpx.AsyncClient) -> None:
    response = await client.get("/.well-known/jwks.json")

    assert response.status_code == 200
    (key,) = response.json()["keys"]
    assert key["kty"] == "OKP"
    assert key["crv"] == "Ed25519"
    assert key["kid"]
    assert "d" not in key


async def test_replicas_and_restarts_share_the_generated_key_and_bootstrap_once(
    client: httpx.AsyncClient, start_auth: Any, sign_in: Any, viewer: Any, admin: Any
) -> None:
    published = (await client.get("/.well-known/jwks.json")).json()
    token = (await sign_in(viewer))["accessToken"]

    async with start_auth() as replica:
        replica_published = (await replica.get("/.well-known/jwks.json")).json()
        me = await replica.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
        admin_token = (await replica.post("/auth/login", json=admin.json())).json()["accessToken"]
        users = await replica.get("/users", headers={"Authorization": f"Bearer {admin_token}"})

    assert replica_published == published
    assert me.status_code == 200
    emails = [user["email"] for user in users.json()["users"]]
    assert emails.count(admin.email) == emails.count(viewer.email) == 1


async def test_during_a_rotation_both_keys_are_published_and_the_active_one_signs(
    start_auth: Any, admin: Any
) -> None:
    old, new = (
        OKPKey.generate_key("Ed25519", parameters={"kid": kid, "use": "sig"})
        for kid in ("2026-01", "2026-02")
    )
    key_set = json.dumps({"keys": [old.as_dict(private=True), new.as_dict(private=True)]})

    async with start_auth(jwt_private_keys=key_set, jwt_active_kid="2026-01") as before:
        published = (await before.get("/.well-known/jwks.json")).json()["keys"]
        old_token = (await before.post("/auth/login", json=admin.json())).json()["accessToken"]

    async with start_auth(jwt_private_keys=key_set, jwt_active_kid="2026-02") as after:
        new_token = (await after.post("/auth/login", json=admin.json())).json()["accessToken"]
        old_still_valid = await after.get(
            "/auth/me", headers={"Authorization": f"Bearer {old_token}"}
        )

    assert [key["kid"] for key in published] == ["2026-01", "2026-02"]
    assert header_of(old_token)["kid"] == "2026-01"
    assert header_of(new_token)["kid"] == "2026-02"
    assert old_still_valid.status_code == 200


async def test_the_generated_key_lives_in_a_0600_file_and_never_in_the_store(
    client: httpx.AsyncClient, infra: Any, database: str
) -> None:
    key_file = Path(tempfile.gettempdir()) / "orderhub-auth-tests" / database / "jwt.json"
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infra.mongodb_url)
    collections = await mongo[database].list_collection_names()
    await mongo.close()
    published = (await client.get("/.well-known/jwks.json")).json()["keys"][0]

    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    assert json.loads(key_file.read_text())["keys"][0]["kid"] == published["kid"]
    assert collections == ["users"]


def test_a_key_file_others_may_read_is_refused(tmp_path: Path) -> None:
    key_file = tmp_path / "jwt.json"
    candidate = generate_signing_key("Ed25519", "k1")
    load_or_create_key_file(key_file, candidate)
    key_file.chmod(0o644)

    with pytest.raises(SigningKeyError, match="chmod 600"):
        load_or_create_key_file(key_file, candidate)
