"""A service that is not auth trusts auth's tokens through orderhub_common.security alone."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from orderhub_common.security import (
    JwtVerifier,
    JwtVerifySettings,
    http_jwks_source,
)
from orderhub_common.settings import ServiceSettings
from orderhub_common.testing import protected_app, sign_test_token, signing_key

pytestmark = pytest.mark.integration


class ReaderSettings(ServiceSettings, JwtVerifySettings):
    pass


class SwitchableTransport(httpx.AsyncBaseTransport):
    """Routes to the auth app, until the test takes auth down."""

    def __init__(self, app: FastAPI) -> None:
        self._auth = httpx.ASGITransport(app=app)
        self.down = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("auth is down", request=request)
        return await self._auth.handle_async_request(request)


@pytest.fixture
def auth_link(auth_app: FastAPI) -> SwitchableTransport:
    return SwitchableTransport(auth_app)


@pytest.fixture
async def orders_like(auth_link: SwitchableTransport) -> AsyncIterator[httpx.AsyncClient]:
    # Keys go stale at once, so every request would refetch them if it could.
    settings = ReaderSettings(environment="test", jwks_cache_ttl_s=0.001, jwks_refetch_interval_s=0)
    jwks = http_jwks_source("http://auth/.well-known/jwks.json", transport=auth_link)
    app = protected_app(settings, JwtVerifier(settings, jwks_source=jwks))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://orders") as client:
        yield client


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segments(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    header, body, signature = token.split(".")
    decode = lambda part: json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))  # noqa: E731
    return decode(header), decode(body), signature


async def read_orders(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/mine", headers={"Authorization": f"Bearer {token}"})


async def test_a_token_from_auth_is_accepted(
    orders_like: httpx.AsyncClient, sign_in: Any, viewer: Any
) -> None:
    session = await sign_in(viewer)

    response = await read_orders(orders_like, session["accessToken"])

    assert response.status_code == 200
    assert response.json() == {"userId": session["user"]["id"]}


async def test_a_viewer_is_refused_an_admin_action(
    orders_like: httpx.AsyncClient, sign_in: Any, viewer: Any, admin: Any
) -> None:
    viewer_token = (await sign_in(viewer))["accessToken"]
    admin_token = (await sign_in(admin))["accessToken"]

    refused = await orders_like.post(
        "/admin-only", headers={"Authorization": f"Bearer {viewer_token}"}
    )
    allowed = await orders_like.post(
        "/admin-only", headers={"Authorization": f"Bearer {admin_token}"}
    )

    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    assert allowed.status_code == 200


async def test_forged_and_stale_tokens_are_refused(
    orders_like: httpx.AsyncClient, auth_app: FastAPI, sign_in: Any, viewer: Any
) -> None:
    genuine = (await sign_in(viewer))["accessToken"]
    header, claims, signature = segments(genuine)
    auth_key = auth_app.state.signing_keys.keys.active
    foreign_key = signing_key(header["kid"])
    now = int(time.time())

    forgeries = {
        "alg none": f"{b64(json.dumps({**header, 'alg': 'none'}).encode())}"
        f".{b64(json.dumps(claims).encode())}.",
        "changed payload": f"{genuine.split('.')[0]}"
        f".{b64(json.dumps({**claims, 'role': 'admin'}).encode())}.{signature}",
        "foreign key": sign_test_token(foreign_key, claims, header=header),
        "wrong aud": sign_test_token(auth_key, {**claims, "aud": "another-system"}, header=header),
        "past exp": sign_test_token(
            auth_key, {**claims, "iat": now - 960, "exp": now - 60}, header=header
        ),
    }

    answers = {name: await read_orders(orders_like, token) for name, token in forgeries.items()}

    assert {name: r.status_code for name, r in answers.items()} == dict.fromkeys(forgeries, 401)
    assert {r.json()["error"]["code"] for r in answers.values()} == {"unauthorized"}
    assert (await read_orders(orders_like, genuine)).status_code == 200


async def test_signed_in_users_keep_reading_while_auth_is_down(
    orders_like: httpx.AsyncClient, auth_link: SwitchableTransport, sign_in: Any, viewer: Any
) -> None:
    token = (await sign_in(viewer))["accessToken"]
    assert (await read_orders(orders_like, token)).status_code == 200

    auth_link.down = True

    assert (await read_orders(orders_like, token)).status_code == 200
    assert (await read_orders(orders_like, token)).status_code == 200
