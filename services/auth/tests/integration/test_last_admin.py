"""No change leaves no active admin, even two admins demoting each other at the same moment.

A module of its own: its store holds the bootstrap admin and the admins these tests create only.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration


def bearer(session: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {session['accessToken']}"}


async def login(client: httpx.AsyncClient, email: str, password: str) -> dict[str, Any]:
    response = await client.post("/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def active_admins(client: httpx.AsyncClient, *sessions: dict[str, Any]) -> list[str]:
    for session in sessions:
        fresh = await login(client, session["user"]["email"], session["password"])
        listed = await client.get("/users", headers=bearer(fresh))
        if listed.status_code == 200:
            users = listed.json()["users"]
            return [u["email"] for u in users if u["role"] == "admin" and u["active"]]
    return []


async def new_admin(client: httpx.AsyncClient, by: dict[str, Any]) -> dict[str, Any]:
    email = f"admin2-{uuid.uuid4().hex[:8]}@orderhub.local"
    password = "long-enough-password"
    created = await client.post(
        "/users", json={"email": email, "password": password, "role": "admin"}, headers=bearer(by)
    )
    assert created.status_code == 201, created.text
    return {**await login(client, email, password), "password": password}


async def test_two_admins_demoting_each_other_at_once_leave_an_active_admin(
    client: httpx.AsyncClient, admin: Any
) -> None:
    first = {**await login(client, admin.email, admin.password), "password": admin.password}
    second = await new_admin(client, first)

    answers = await asyncio.gather(
        client.patch(
            f"/users/{second['user']['id']}", json={"role": "viewer"}, headers=bearer(first)
        ),
        client.patch(
            f"/users/{first['user']['id']}", json={"role": "viewer"}, headers=bearer(second)
        ),
    )

    codes = sorted(answer.status_code for answer in answers)
    assert codes[0] == 200
    assert codes[1] in {401, 403, 409}
    assert len(await active_admins(client, first, second)) == 1
