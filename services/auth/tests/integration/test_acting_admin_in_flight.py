"""An admin demoted while its requests are in flight acts no more once the demotion is written
(finding 5 of issue 21: 3 of 8 create-admin requests got through).

A module of its own: its auth app hashes passwords through a stand-in that can hold the hashing
of requests already past their token check, the window the race was in.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from pymongo import AsyncMongoClient

from auth.main import create_app
from auth.passwords import Passwords

from .conftest import auth_settings

pytestmark = pytest.mark.integration

PASSWORD = "long-enough-password"
TRIES = 8


class HeldPasswords(Passwords):
    """Cheap Argon2id whose hashing, while ``holding``, waits for ``release`` (at most 3 s, so an
    implementation that hashes under the user lock is not deadlocked by the test)."""

    def __init__(self) -> None:
        super().__init__(PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1))
        self.holding = False
        self.held = 0
        self.all_held = asyncio.Event()
        self.release = asyncio.Event()

    async def hash(self, password: str) -> str:
        if self.holding:
            self.held += 1
            if self.held == TRIES:
                self.all_held.set()
            try:
                async with asyncio.timeout(3):
                    await self.release.wait()
            except TimeoutError:
                self.release.set()
        return await super().hash(password)


@pytest.fixture(scope="module")
def passwords() -> HeldPasswords:
    return HeldPasswords()


@pytest.fixture(scope="module")
async def auth_app(infra: Any, database: str, passwords: HeldPasswords) -> AsyncIterator[FastAPI]:
    app = create_app(auth_settings(infra, database), passwords=passwords)
    async with LifespanManager(app):
        yield app
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infra.mongodb_url)
    await mongo.drop_database(database)
    await mongo.close()


def bearer(session: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {session['accessToken']}"}


def new_user_body(role: str) -> dict[str, str]:
    return {"email": f"u-{uuid.uuid4().hex[:8]}@orderhub.local", "password": PASSWORD, "role": role}


async def test_an_admin_demoted_while_its_create_admin_requests_are_in_flight_creates_no_admin(
    client: httpx.AsyncClient, sign_in: Any, admin: Any, passwords: HeldPasswords
) -> None:
    boss = await sign_in(admin)
    body = new_user_body("admin")
    assert (await client.post("/users", json=body, headers=bearer(boss))).status_code == 201
    credentials = {"email": body["email"], "password": PASSWORD}
    doomed = (await client.post("/auth/login", json=credentials)).json()
    wanted = [new_user_body("admin") for _ in range(TRIES)]

    passwords.holding = True
    try:
        # Every create is past its token check (its token still stood) and hashing when the
        # demotion is sent; the hashing goes on once the demotion is written.
        creates = [
            asyncio.create_task(client.post("/users", json=one, headers=bearer(doomed)))
            for one in wanted
        ]
        async with asyncio.timeout(10):
            await passwords.all_held.wait()
        demoted = await client.patch(
            f"/users/{doomed['user']['id']}", json={"role": "viewer"}, headers=bearer(boss)
        )
        passwords.release.set()
        answers = await asyncio.gather(*creates)
    finally:
        passwords.holding = False
        passwords.release.set()

    assert demoted.status_code == 200, demoted.text
    assert [answer.status_code for answer in answers] == [403] * TRIES, [
        answer.text for answer in answers
    ]
    listed = await client.get("/users", headers=bearer(boss))
    emails = {user["email"] for user in listed.json()["users"]}
    assert not emails & {one["email"] for one in wanted}
