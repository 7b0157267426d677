"""A revoked access token is refused on orders' own port, not only at the gateway (finding 4 of
issue 21: a deactivated admin's token on :8002 listed orders, started an export and renamed and
unshared another admin's team view); a bulk move stops once its creator is demoted (finding 8:
one went on from 100 to 3,065 orders after the demotion).

Auth revokes a token in Redis: it moves the user's access version on a demotion, deactivation,
password or email change, and marks the token's ``jti`` on sign-out.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from devstack.pytest_plugin import InfraUrls
from orderhub_common.events import Channel
from orderhub_common.kafka import aiokafka_options
from orderhub_common.revocation import AccessRevocations
from orderhub_common.security import Principal, Role
from orderhub_common.settings import KafkaSettings
from orderhub_common.testing import channel_order
from orders.jobs.runner import MOVE_CHUNK
from orders.service import OrderService

from .conftest import TOKENS, record, running_pipeline

pytestmark = pytest.mark.integration

OWNER = TOKENS.bearer("admin", "user-view-owner")
BULK_ORDERS = 4 * MOVE_CHUNK


@dataclass
class Orders:
    client: httpx.AsyncClient
    revocations: AccessRevocations
    service: OrderService


@pytest.fixture(scope="module")
async def orders(infra: InfraUrls) -> AsyncIterator[Orders]:
    producer = AIOKafkaProducer(**aiokafka_options(KafkaSettings(**infra.kafka_settings())))
    await producer.start()
    try:
        async for pipeline in running_pipeline(infra, f"t{uuid.uuid4().hex[:10]}", producer):
            service: OrderService = pipeline.app.state.order_service
            await record(service, *(channel_order(f"R-{n}") for n in range(3)))
            # The bulk move's orders: every blinkit order, and only those.
            blinkit = (channel_order(f"B-{n}", channel=Channel.BLINKIT) for n in range(BULK_ORDERS))
            await record(service, *blinkit)
            transport = httpx.ASGITransport(pipeline.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://orders") as client:
                yield Orders(client, pipeline.app.state.access_revocations, service)
    finally:
        await producer.stop()


async def demoted_admin(revocations: AccessRevocations) -> dict[str, str]:
    """An admin's token issued at access version 0; auth has since demoted or deactivated them."""
    user_id = f"user-{uuid.uuid4().hex[:8]}"
    headers = TOKENS.bearer("admin", user_id, ver=0)
    await revocations.publish_version(user_id, 1)
    return headers


async def signed_out_admin(revocations: AccessRevocations) -> dict[str, str]:
    user_id, jti = f"user-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    headers = TOKENS.bearer("admin", user_id, jti=jti)
    expires_at = datetime.now(UTC) + timedelta(minutes=15)
    await revocations.revoke_token(Principal(user_id, Role.ADMIN, jti, expires_at))
    return headers


async def shared_view(client: httpx.AsyncClient) -> dict[str, Any]:
    """Another admin's view, shared with the team."""
    created = await client.post(
        "/views", json={"name": f"team {uuid.uuid4().hex[:6]}", "shared": True}, headers=OWNER
    )
    assert created.status_code == 201, created.text
    view: dict[str, Any] = created.json()["view"]
    return view


async def calls(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, object]:
    """What a caller with ``headers`` gets from each call the finding saw go through, and
    whether the team views they tried to rename and unshare are as they were."""
    rename, unshare = await shared_view(client), await shared_view(client)
    answers: dict[str, object] = {
        "list": (await client.get("/orders", headers=headers)).status_code,
        "export": (await client.post("/exports", json={"view": {}}, headers=headers)).status_code,
        "rename view": (
            await client.patch(
                f"/views/{rename['id']}", json={"name": f"{rename['name']}!"}, headers=headers
            )
        ).status_code,
        "unshare view": (
            await client.patch(f"/views/{unshare['id']}", json={"shared": False}, headers=headers)
        ).status_code,
    }
    views = {
        view["id"]: view for view in (await client.get("/views", headers=OWNER)).json()["views"]
    }
    answers["views untouched"] = (
        views[rename["id"]]["name"] == rename["name"] and views[unshare["id"]]["shared"]
    )
    return answers


@pytest.mark.parametrize(
    "revoked", [demoted_admin, signed_out_admin], ids=["demoted-or-deactivated", "signed-out"]
)
async def test_a_revoked_admin_token_is_refused_on_the_services_own_port(
    orders: Orders, revoked: Any
) -> None:
    headers = await revoked(orders.revocations)

    answers = await calls(orders.client, headers)

    assert answers == {
        "list": 401,
        "export": 401,
        "rename view": 401,
        "unshare view": 401,
        "views untouched": True,
    }


async def test_a_token_that_still_stands_is_served(orders: Orders) -> None:
    user_id = f"user-{uuid.uuid4().hex[:8]}"
    await orders.revocations.publish_version(user_id, 3)  # signed in since its last change
    headers = TOKENS.bearer("admin", user_id, ver=3)

    answers = await calls(orders.client, headers)

    assert answers == {
        "list": 200,
        "export": 202,
        "rename view": 200,
        "unshare view": 200,
        "views untouched": False,
    }


async def test_a_bulk_move_stops_within_a_chunk_once_its_creator_is_demoted(
    orders: Orders, monkeypatch: pytest.MonkeyPatch
) -> None:
    creator_id = f"user-{uuid.uuid4().hex[:8]}"
    await orders.revocations.publish_version(creator_id, 2)
    creator = TOKENS.bearer("admin", creator_id, ver=2)
    first_chunk_done, demoted = asyncio.Event(), asyncio.Event()
    move_many = orders.service.move_many

    async def first_chunk_then_demotion(*args: Any, **kwargs: Any) -> Any:
        outcomes = await move_many(*args, **kwargs)
        first_chunk_done.set()
        async with asyncio.timeout(10):
            await demoted.wait()
        return outcomes

    monkeypatch.setattr(orders.service, "move_many", first_chunk_then_demotion)
    started = await orders.client.post(
        "/bulk-moves",
        json={"status": "CONFIRMED", "view": {"channel": ["blinkit"], "status": ["PLACED"]}},
        headers=creator,
    )
    assert started.status_code == 202, started.text
    job_id = started.json()["job"]["id"]
    async with asyncio.timeout(30):
        await first_chunk_done.wait()
    await orders.revocations.publish_version(creator_id, 3)  # auth demoted them
    demoted.set()

    async def finished() -> dict[str, Any]:
        while True:
            job: dict[str, Any] = (
                await orders.client.get(f"/jobs/{job_id}", headers=OWNER)
            ).json()["job"]
            if job["state"] not in {"queued", "running"}:
                return job
            await asyncio.sleep(0.2)

    async with asyncio.timeout(30):
        job = await finished()

    assert job["state"] == "cancelled"
    assert job["error"].startswith("stopped: its creator's access ended")
    assert job["total"] == BULK_ORDERS
    assert job["processed"] == job["moved"] == MOVE_CHUNK
    placed = await orders.client.get(
        "/orders", params={"channel": "blinkit", "status": "PLACED", "limit": 1}, headers=OWNER
    )
    assert placed.json()["pagination"]["total"] == BULK_ORDERS - MOVE_CHUNK
