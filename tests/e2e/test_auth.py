"""Signing in through the gateway, as the SPA does, and what a signed-in user keeps when auth
is down."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.e2e


@pytest.fixture
def api(gateway_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{gateway_url}/api", timeout=10) as client:
        yield client


def sign_in(api: httpx.Client, email: str, password: str) -> dict[str, Any]:
    response = api.post("/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    session: dict[str, Any] = response.json()
    return session


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("role", ["admin", "viewer"])
def test_bootstrap_users_sign_in_and_see_themselves(
    api: httpx.Client, credentials: dict[str, tuple[str, str]], role: str
) -> None:
    email, password = credentials[role]

    session = sign_in(api, email, password)
    me = api.get("/auth/me", headers=bearer(session["accessToken"]))

    assert session["tokenType"] == "Bearer"
    assert session["user"]["role"] == role
    assert me.status_code == 200
    assert me.json() == {"user": session["user"]}


def test_wrong_password_and_unknown_user_look_the_same(
    api: httpx.Client, credentials: dict[str, tuple[str, str]]
) -> None:
    email, _ = credentials["viewer"]

    wrong = api.post("/auth/login", json={"email": email, "password": "wrong-password"})
    unknown = api.post(
        "/auth/login",
        json={"email": f"nobody-{uuid.uuid4().hex[:8]}@orderhub.local", "password": "wrong"},
    )

    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["error"]["code"] == unknown.json()["error"]["code"] == "invalid_credentials"


def test_refresh_rotates_and_a_reused_token_ends_the_session(
    api: httpx.Client, credentials: dict[str, tuple[str, str]]
) -> None:
    first = sign_in(api, *credentials["viewer"])["refreshToken"]

    rotated = api.post("/auth/refresh", json={"refreshToken": first})
    assert rotated.status_code == 200
    second = rotated.json()["refreshToken"]
    assert api.get("/auth/me", headers=bearer(rotated.json()["accessToken"])).status_code == 200

    assert api.post("/auth/refresh", json={"refreshToken": first}).status_code == 401
    assert api.post("/auth/refresh", json={"refreshToken": second}).status_code == 401


def test_logout_ends_the_session(
    api: httpx.Client, credentials: dict[str, tuple[str, str]]
) -> None:
    session = sign_in(api, *credentials["admin"])

    logout = api.post(
        "/auth/logout",
        json={"refreshToken": session["refreshToken"]},
        headers=bearer(session["accessToken"]),
    )

    refreshed = api.post("/auth/refresh", json={"refreshToken": session["refreshToken"]})
    assert logout.status_code == 204
    assert refreshed.status_code == 401


def test_only_admins_manage_users(
    api: httpx.Client, credentials: dict[str, tuple[str, str]]
) -> None:
    admin = sign_in(api, *credentials["admin"])
    viewer = sign_in(api, *credentials["viewer"])

    assert api.get("/users", headers=bearer(viewer["accessToken"])).status_code == 403
    listed = api.get("/users", headers=bearer(admin["accessToken"]))
    assert listed.status_code == 200
    assert {user["email"] for user in listed.json()["users"]} >= {
        admin["user"]["email"],
        viewer["user"]["email"],
    }


def test_signed_in_users_keep_reading_orders_while_auth_is_down(
    api: httpx.Client,
    credentials: dict[str, tuple[str, str]],
    stopped_service: Callable[[str], AbstractContextManager[None]],
) -> None:
    session = sign_in(api, *credentials["viewer"])
    headers = bearer(session["accessToken"])
    # The first read makes the gateway and orders fetch and cache auth's public keys.
    assert api.get("/orders", headers=headers).status_code == 200

    with stopped_service("auth"):
        orders = api.get("/orders", headers=headers)
        stats = api.get("/orders/stats", headers=headers)
        no_token = api.get("/orders")

    assert orders.status_code == 200
    assert "orders" in orders.json()
    assert stats.status_code == 200
    assert no_token.status_code == 401
