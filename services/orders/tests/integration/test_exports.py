"""Exports over HTTP against the real stores (issue 21, findings 6 and 9): download links that
are capped in lifetime and bound to the user they were made for, per-user export limits, and
the retention sweep that deletes an export's file once no link can reach it."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from redis.asyncio import Redis
from sqlalchemy import func, select

from devstack.pytest_plugin import InfraUrls, eventually
from orderhub_common.kafka import aiokafka_options
from orderhub_common.revocation import AccessRevocations
from orderhub_common.security import Principal, Role
from orderhub_common.settings import KafkaSettings
from orderhub_common.testing import channel_order
from orders.download_links import DownloadLinks, LinkHolder
from orders.errors import ExportLimitError
from orders.export_retention import DOWNLOAD_GRACE, ExportRetention, ExportRules
from orders.jobs.service import JobService
from orders.query_side import QuerySide, WorkStore, export_chunks
from orders.repository import OrderRepository
from orders.schemas import ExportRequest
from orders.service import OrderService

from .conftest import (
    ORDERS_REDIS_DB,
    TOKENS,
    Pipeline,
    bearer,
    record,
    running_pipeline,
)

pytestmark = pytest.mark.integration

ORDER_COUNT = 5
PER_DAY = 3
TEN_YEARS_S = 10 * 365 * 86_400


@pytest.fixture(scope="module")
async def pipeline(infra: InfraUrls) -> AsyncIterator[Pipeline]:
    producer = AIOKafkaProducer(**aiokafka_options(KafkaSettings(**infra.kafka_settings())))
    await producer.start()
    try:
        async for running in running_pipeline(
            infra, f"t{uuid.uuid4().hex[:10]}", producer, exports_per_user_per_day=PER_DAY
        ):
            service: OrderService = running.app.state.order_service
            await record(service, *(channel_order(f"EXP-{n}") for n in range(ORDER_COUNT)))
            yield running
    finally:
        await producer.stop()


@pytest.fixture
async def client(pipeline: Pipeline) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(pipeline.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://orders") as client:
        yield client


def a_user() -> str:
    return f"user-{uuid.uuid4().hex[:10]}"


async def finished_export(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    started = await client.post("/exports", json={}, headers=headers)
    assert started.status_code == 202, started.text
    job_id = started.json()["job"]["id"]
    job: dict[str, Any] = {}

    async def succeeded() -> bool:
        nonlocal job
        job = (await client.get(f"/jobs/{job_id}", headers=headers)).json()["job"]
        return bool(job["state"] == "succeeded")

    await eventually(succeeded, what=f"export {job_id} to finish")
    return job


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def hand_signed(
    pipeline: Pipeline, job_id: str, holder: LinkHolder, issued: int, expires: int
) -> str:
    """A link signed with the service's own key, as someone holding the key could make one."""
    links = DownloadLinks(pipeline.settings.export_link_secret.get_secret_value().encode(), 300)
    query = {
        "user": holder.user_id,
        "role": holder.role.value,
        "version": holder.access_version,
        "issued": issued,
        "expires": expires,
        "signature": links.signature(job_id, holder, issued, expires),
    }
    return f"/exports/{job_id}/download?{urlencode(query)}"


def served(url: str) -> str:
    """A link as the job gives it (``/api/...``, the gateway's path), on orders' own path."""
    return url.removeprefix("/api")


def error_code(response: httpx.Response) -> str:
    return str(response.json()["error"]["code"])


async def test_a_link_opens_its_owners_export_and_an_admins_own_link_opens_it_too(
    client: httpx.AsyncClient,
) -> None:
    viewer = bearer("viewer", a_user())
    job = await finished_export(client, viewer)

    got = await client.get(served(job["downloadUrl"]))
    assert got.status_code == 200, got.text
    assert got.content.decode("utf-8-sig").count("\n") == ORDER_COUNT + 1
    # An admin reading the job gets a link of their own, which works too.
    for_admin = (await client.get(f"/jobs/{job['id']}", headers=bearer("admin"))).json()["job"]
    assert query_of(for_admin["downloadUrl"])["role"] == "admin"
    assert (await client.get(served(for_admin["downloadUrl"]))).status_code == 200
    # A link in the old shape (expiry and signature only) is refused as not valid.
    old = query_of(job["downloadUrl"])
    refused = await client.get(
        f"/exports/{job['id']}/download",
        params={"expires": old["expires"], "signature": old["signature"]},
    )
    assert refused.status_code == 403
    assert error_code(refused) == "download_link_invalid"


async def test_a_hand_signed_ten_year_link_is_refused_even_with_the_right_key(
    client: httpx.AsyncClient, pipeline: Pipeline
) -> None:
    user = a_user()
    job = await finished_export(client, bearer("viewer", user))
    holder, now = LinkHolder(user, Role.VIEWER, 0), int(time.time())

    ten_years = await client.get(hand_signed(pipeline, job["id"], holder, now, now + TEN_YEARS_S))
    short = await client.get(hand_signed(pipeline, job["id"], holder, now, now + 60))

    assert ten_years.status_code == 403
    assert error_code(ten_years) == "download_link_invalid"
    assert short.status_code == 200  # the key is the right one: only the lifetime is refused


async def test_a_link_made_for_one_user_does_not_open_for_another(
    client: httpx.AsyncClient, pipeline: Pipeline, infra: InfraUrls
) -> None:
    owner, other = a_user(), a_user()
    job = await finished_export(client, bearer("viewer", owner))
    link = query_of(job["downloadUrl"])
    now = int(time.time())

    # The owner's link, edited to name another user.
    moved = await client.get(f"/exports/{job['id']}/download", params={**link, "user": other})
    # A link signed with the key for another viewer, over the owner's export.
    others = await client.get(
        hand_signed(pipeline, job["id"], LinkHolder(other, Role.VIEWER, 0), now, now + 60)
    )
    assert [moved.status_code, others.status_code] == [403, 403]
    assert {error_code(moved), error_code(others)} == {"download_link_invalid"}

    # Once the owner's access changes (demoted, deactivated), their links stop with their tokens.
    redis = Redis.from_url(infra.redis_db(ORDERS_REDIS_DB), decode_responses=True)
    try:
        await AccessRevocations(redis).publish_version(owner, 1)
    finally:
        await redis.aclose()
    stale = await client.get(served(job["downloadUrl"]))
    assert stale.status_code == 403
    assert error_code(stale) == "download_link_invalid"
    signed_in_again = TOKENS.bearer("viewer", owner, ver=1)
    fresh = (await client.get(f"/jobs/{job['id']}", headers=signed_in_again)).json()["job"]
    assert (await client.get(served(fresh["downloadUrl"]))).status_code == 200


async def test_the_third_concurrent_export_of_a_user_is_refused_with_429(
    query_side: QuerySide,
) -> None:
    # No runner here: the exports stay queued.
    jobs = JobService(
        OrderService(OrderRepository(), query_side),
        WorkStore(query_side),
        DownloadLinks(b"key", 300),
        rules=ExportRules(running_per_user=2, per_user_per_day=20),
    )
    user = Principal(a_user(), Role.VIEWER, "jti", datetime.now(UTC) + timedelta(minutes=5))

    started = await asyncio.gather(
        *(jobs.start_export(ExportRequest(), user, None) for _ in range(3)),
        return_exceptions=True,
    )

    refused = [answer for answer in started if isinstance(answer, Exception)]
    assert len(refused) == 1, started
    assert isinstance(refused[0], ExportLimitError)
    assert (refused[0].status_code, refused[0].code) == (429, "export_limit_reached")
    assert int((refused[0].headers or {})["Retry-After"]) > 0
    # Another user is not held back by this one's exports.
    other = Principal(a_user(), Role.VIEWER, "jti", user.expires_at)
    assert (await jobs.start_export(ExportRequest(), other, None)).state == "queued"


async def test_a_users_exports_per_day_are_limited_with_a_clear_429(
    client: httpx.AsyncClient,
) -> None:
    viewer = bearer("viewer", a_user())
    for _ in range(PER_DAY):
        await finished_export(client, viewer)

    refused = await client.post("/exports", json={}, headers=viewer)

    assert refused.status_code == 429
    assert error_code(refused) == "export_limit_reached"
    assert "24 hours" in refused.json()["error"]["message"]
    assert 0 < int(refused.headers["Retry-After"]) <= 86_400
    assert (await client.post("/exports", json={}, headers=bearer("viewer"))).status_code == 202


async def test_after_its_retention_and_a_sweep_an_exports_file_is_gone_and_its_link_is_410(
    client: httpx.AsyncClient, pipeline: Pipeline
) -> None:
    viewer = bearer("viewer", a_user())
    job = await finished_export(client, viewer)
    store = WorkStore(pipeline.query_side)
    retention = ExportRetention(store, ExportRules(retention_s=3600))

    async def chunks() -> int:
        async with pipeline.query_side.engine.connect() as connection:
            counted = await connection.execute(
                select(func.count())
                .select_from(export_chunks)
                .where(export_chunks.c.job_id == job["id"])
            )
            return int(counted.scalar_one())

    await retention.sweep()  # kept for an hour: nothing of it goes now
    assert await chunks() > 0
    assert (await client.get(served(job["downloadUrl"]))).status_code == 200

    later = datetime.now(UTC) + timedelta(seconds=3600) + DOWNLOAD_GRACE + timedelta(minutes=1)
    assert await retention.sweep(now=later) >= 1

    assert await chunks() == 0
    gone = await client.get(served(job["downloadUrl"]))
    assert gone.status_code == 410
    assert error_code(gone) == "export_expired"
    again = (await client.get(f"/jobs/{job['id']}", headers=viewer)).json()["job"]
    assert again["state"] == "succeeded"
    assert again["downloadUrl"] is None
