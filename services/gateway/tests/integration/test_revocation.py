"""The edge ends access when auth revokes it: a moved access version or a signed-out token is
401 on the next call, and a live event stream ends at its token's expiry or revocation."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from devstack.pytest_plugin import InfraUrls
from orderhub_common.revocation import AccessRevocations
from orderhub_common.security import Principal, Role

from .conftest import RunningGateway, running_gateway

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def gateway(infra: InfraUrls, no_spa_dist: Path) -> AsyncIterator[RunningGateway]:
    async with running_gateway(infra, no_spa_dist, sse_revalidate_s=0.2) as running:
        yield running


def principal(user_id: str, jti: str, ttl_s: int = 900) -> Principal:
    return Principal(
        user_id=user_id,
        role=Role.ADMIN,
        jti=jti,
        expires_at=datetime.fromtimestamp(time.time() + ttl_s, UTC),
    )


async def test_a_token_of_a_user_whose_access_version_moved_is_refused(
    gateway: RunningGateway,
) -> None:
    user_id = f"user-{uuid.uuid4().hex[:8]}"
    headers = gateway.bearer("admin", user_id)
    async with gateway.client() as client:
        before = await client.get("/api/orders", headers=headers)
        await AccessRevocations(gateway.redis).publish_version(user_id, 1)  # auth demoted them
        after = await client.get("/api/orders", headers=headers)
        newer = await client.get(
            "/api/orders",
            headers={"Authorization": f"Bearer {gateway.tokens.mint('viewer', user_id, ver=1)}"},
        )

    assert before.status_code == 200
    assert after.status_code == 401
    assert after.json()["error"]["code"] == "unauthorized"
    assert newer.status_code == 200


async def test_a_signed_out_token_is_refused(gateway: RunningGateway) -> None:
    user_id, jti = f"user-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    headers = {"Authorization": f"Bearer {gateway.tokens.mint('admin', user_id, jti=jti)}"}
    async with gateway.client() as client:
        before = await client.get("/api/orders", headers=headers)
        await AccessRevocations(gateway.redis).revoke_token(principal(user_id, jti))
        after = await client.get("/api/orders", headers=headers)

    assert (before.status_code, after.status_code) == (200, 401)


async def _read_until_closed(client: httpx.AsyncClient, token: str) -> int:
    async with client.stream(
        "GET", "/api/events", headers={"Authorization": f"Bearer {token}"}
    ) as stream:
        async for _ in stream.aiter_lines():
            pass
        return stream.status_code


async def test_a_live_stream_ends_when_its_token_expires(gateway: RunningGateway) -> None:
    token = gateway.tokens.mint("viewer", ttl_s=2)
    async with gateway.client(timeout=30) as client:
        # The read returns only once the gateway has closed the stream.
        status = await asyncio.wait_for(_read_until_closed(client, token), timeout=20)

    assert status == 200


async def test_a_live_stream_ends_when_its_token_is_revoked(gateway: RunningGateway) -> None:
    user_id = f"user-{uuid.uuid4().hex[:8]}"
    token = gateway.tokens.mint("viewer", user_id)
    async with (
        gateway.client(timeout=30) as client,
        client.stream("GET", "/api/events", headers={"Authorization": f"Bearer {token}"}) as stream,
    ):
        lines = stream.aiter_lines()
        assert (await anext(lines)).startswith(": connected")  # the stream is live
        await AccessRevocations(gateway.redis).publish_version(user_id, 7)

        async def drained() -> None:
            async for _ in lines:
                pass

        # Returns only once the gateway has ended the stream.
        await asyncio.wait_for(drained(), timeout=20)
