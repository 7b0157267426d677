from __future__ import annotations

import random
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from pydantic import SecretStr
from pymongo import AsyncMongoClient

from auth.main import create_app
from auth.passwords import Passwords
from auth.settings import AuthSettings

AUTH_REDIS_DB = 2
ADMIN_PASSWORD = "admin-password-for-tests"
VIEWER_PASSWORD = "viewer-password-for-tests"


def cheap_passwords() -> Passwords:
    # Argon2id all the same, with costs that keep the suite fast on a shared machine.
    return Passwords(PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1))


def auth_settings(infra: Any, database: str, **overrides: Any) -> AuthSettings:
    values: dict[str, Any] = {
        "environment": "test",
        "mongodb_url": SecretStr(infra.mongodb_url),
        "mongodb_database": database,
        "redis_url": SecretStr(infra.redis_db(AUTH_REDIS_DB)),
        **infra.kafka_settings(),
        "kafka_topic_prefix": f"{database}.",
        "bootstrap_admin_email": f"Admin-{database}@orderhub.local",
        "bootstrap_admin_password": SecretStr(ADMIN_PASSWORD),
        "bootstrap_viewer_email": f"viewer-{database}@orderhub.local",
        "bootstrap_viewer_password": SecretStr(VIEWER_PASSWORD),
        "startup_timeout_s": 10,
        "forwarded_allow_ips": "127.0.0.1",  # the gateway, as the local stack configures it
        # Replicas of one suite share the development key through this file.
        "jwt_private_keys_file": Path(tempfile.gettempdir())
        / "orderhub-auth-tests"
        / database
        / "jwt.json",
    }
    values.update(overrides)
    return AuthSettings(**values)


def random_ip() -> str:
    return f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


@pytest.fixture(scope="module")
def database() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
async def auth_app(infra: Any, database: str) -> AsyncIterator[FastAPI]:
    app = create_app(auth_settings(infra, database), passwords=cheap_passwords())
    async with LifespanManager(app):
        yield app
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infra.mongodb_url)
    await mongo.drop_database(database)
    await mongo.close()


StartAuth = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture(scope="module")
def start_auth(infra: Any, database: str) -> StartAuth:
    """Starts another auth replica on the suite's database, with settings overridden."""

    @asynccontextmanager
    async def started(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(auth_settings(infra, database, **overrides), passwords=cheap_passwords())
        async with LifespanManager(app):
            transport = httpx.ASGITransport(app=app, client=(random_ip(), 40000))
            async with httpx.AsyncClient(transport=transport, base_url="http://auth") as client:
                yield client

    return started


@pytest.fixture
async def client(auth_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client from its own address, so per-address sign-in limits never couple tests."""
    transport = httpx.ASGITransport(app=auth_app, client=(random_ip(), 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://auth") as client:
        yield client


@dataclass(frozen=True)
class Credentials:
    email: str
    password: str

    def json(self) -> dict[str, str]:
        return {"email": self.email, "password": self.password}


@pytest.fixture(scope="module")
def admin(database: str) -> Credentials:
    return Credentials(f"admin-{database}@orderhub.local", ADMIN_PASSWORD)


@pytest.fixture(scope="module")
def viewer(database: str) -> Credentials:
    return Credentials(f"viewer-{database}@orderhub.local", VIEWER_PASSWORD)


SignIn = Callable[[Credentials], Awaitable[dict[str, Any]]]


@pytest.fixture
def sign_in(client: httpx.AsyncClient) -> SignIn:
    async def signed_in(credentials: Credentials) -> dict[str, Any]:
        response = await client.post("/auth/login", json=credentials.json())
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    return signed_in
