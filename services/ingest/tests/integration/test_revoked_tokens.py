"""A revoked access token is refused on ingest's own port, not only at the gateway (finding 4 of
issue 21: a signed-out, demoted admin's token paused ingestion on :8003)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from redis.asyncio import Redis

from ingest.main import create_app
from ingest.settings import IngestSettings
from orderhub_common.revocation import AccessRevocations
from orderhub_common.security import JwtVerifier, Principal, Role
from orderhub_common.testing import FakeTokenIssuer

pytestmark = pytest.mark.integration

TOKENS = FakeTokenIssuer(kid="ingest-revocation-test")


@pytest.fixture
async def ingest(
    settings: IngestSettings, redis: Redis, channels_app: FastAPI
) -> AsyncIterator[tuple[httpx.AsyncClient, AccessRevocations]]:
    app = create_app(settings, channel_transport=httpx.ASGITransport(app=channels_app))
    app.state.jwt_verifier = JwtVerifier(settings, jwks_source=TOKENS.jwks)
    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=15):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ingest") as client:
            yield client, AccessRevocations(redis)  # as auth writes them


async def paused(client: httpx.AsyncClient) -> bool:
    rows = (await client.get("/channels", headers=TOKENS.bearer("viewer"))).json()
    return bool(next(row for row in rows if row["channel"] == "amazon")["paused"])


async def test_a_demoted_or_signed_out_admins_token_cannot_pause_a_channel(
    ingest: tuple[httpx.AsyncClient, AccessRevocations],
) -> None:
    client, revocations = ingest
    demoted_id = f"user-{uuid.uuid4().hex[:8]}"
    demoted = TOKENS.bearer("admin", demoted_id, ver=0)
    await revocations.publish_version(demoted_id, 1)  # auth demoted or deactivated them
    jti = uuid.uuid4().hex
    signed_out = TOKENS.bearer("admin", "user-admin-1", jti=jti)
    expires_at = datetime.now(UTC) + timedelta(minutes=15)
    await revocations.revoke_token(Principal("user-admin-1", Role.ADMIN, jti, expires_at))

    answers = [
        (await client.post("/channels/amazon/pause", headers=headers)).status_code
        for headers in (demoted, signed_out)
    ]
    listed = (await client.get("/channels", headers=demoted)).status_code

    assert answers == [401, 401]
    assert listed == 401
    assert not await paused(client)
    # A token that still stands pauses it.
    served = await client.post("/channels/amazon/pause", headers=TOKENS.bearer("admin"))
    assert served.status_code == 200, served.text
    assert await paused(client)
