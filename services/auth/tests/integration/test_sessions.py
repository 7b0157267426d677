from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from auth.main import create_app
from auth.settings import AuthSettings

pytestmark = pytest.mark.integration


async def refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/auth/refresh", json={"refreshToken": token})


async def test_refresh_rotates_both_tokens(
    client: httpx.AsyncClient, sign_in: Any, viewer: Any
) -> None:
    session = await sign_in(viewer)

    response = await refresh(client, session["refreshToken"])

    assert response.status_code == 200
    rotated = response.json()
    assert set(rotated) == {"accessToken", "refreshToken", "expiresIn"}
    assert rotated["refreshToken"] != session["refreshToken"]
    me = await client.get("/auth/me", headers={"Authorization": f"Bearer {rotated['accessToken']}"})
    assert me.json()["user"]["email"] == viewer.email


async def test_reusing_a_used_refresh_token_revokes_the_whole_family(
    client: httpx.AsyncClient, sign_in: Any, viewer: Any
) -> None:
    first = (await sign_in(viewer))["refreshToken"]
    rotated = await refresh(client, first)
    assert rotated.status_code == 200
    second = rotated.json()["refreshToken"]

    reused = await refresh(client, first)
    newer = await refresh(client, second)

    assert reused.status_code == 401
    assert reused.json()["error"]["code"] == "invalid_refresh_token"
    assert newer.status_code == 401


async def test_other_sessions_survive_a_revoked_family(
    client: httpx.AsyncClient, sign_in: Any, viewer: Any
) -> None:
    stolen = (await sign_in(viewer))["refreshToken"]
    other_device = (await sign_in(viewer))["refreshToken"]
    by_the_thief = await refresh(client, stolen)
    reused = await refresh(client, stolen)

    assert by_the_thief.status_code == 200
    assert reused.status_code == 401
    assert reused.json()["error"]["code"] == "invalid_refresh_token"
    assert (await refresh(client, by_the_thief.json()["refreshToken"])).status_code == 401, (
        "the reuse revoked the stolen token's family"
    )
    assert (await refresh(client, other_device)).status_code == 200


async def test_logout_kills_the_refresh_token(
    client: httpx.AsyncClient, sign_in: Any, admin: Any
) -> None:
    session = await sign_in(admin)

    response = await client.post(
        "/auth/logout",
        json={"refreshToken": session["refreshToken"]},
        headers={"Authorization": f"Bearer {session['accessToken']}"},
    )

    assert response.status_code == 204
    assert (await refresh(client, session["refreshToken"])).status_code == 401


async def test_logout_needs_a_signed_in_caller(
    client: httpx.AsyncClient, sign_in: Any, admin: Any
) -> None:
    session = await sign_in(admin)

    response = await client.post("/auth/logout", json={"refreshToken": session["refreshToken"]})

    assert response.status_code == 401
    assert (await refresh(client, session["refreshToken"])).status_code == 200


async def test_an_unknown_refresh_token_is_refused(client: httpx.AsyncClient) -> None:
    response = await refresh(client, "made-up-token")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_refresh_token"


@pytest.mark.parametrize("token", ["", "x" * 600], ids=["empty", "huge"])
async def test_a_malformed_refresh_token_is_422(client: httpx.AsyncClient, token: str) -> None:
    response = await refresh(client, token)

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


async def test_a_redis_outage_is_503_not_500(infra: Any, database: str) -> None:
    # Built without its lifespan, so nothing waits for the dead Redis before the request.
    settings = AuthSettings(
        environment="test",
        mongodb_url=SecretStr(infra.mongodb_url),
        mongodb_database=database,
        redis_url=SecretStr("redis://127.0.0.1:1/2"),
    )
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://auth") as client:
        response = await refresh(client, "any-token")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    assert response.headers["Retry-After"] == "5"
