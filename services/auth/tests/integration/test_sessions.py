from __future__ import annotations

from typing import Any

import httpx
import pytest

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
    assert set(rotated) == {"accessToken", "refreshToken"}
    assert rotated["refreshToken"] != session["refreshToken"]
    me = await client.get("/auth/me", headers={"Authorization": f"Bearer {rotated['accessToken']}"})
    assert me.json()["user"]["email"] == viewer.email


async def test_reusing_a_used_refresh_token_revokes_the_whole_family(
    client: httpx.AsyncClient, sign_in: Any, viewer: Any
) -> None:
    first = (await sign_in(viewer))["refreshToken"]
    second = (await refresh(client, first)).json()["refreshToken"]

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
    await refresh(client, stolen)
    await refresh(client, stolen)

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
