"""The gateway end to end in one process: real Redis and Kafka, fake services behind it."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from devstack.pytest_plugin import eventually
from orderhub_common.events import Channel, OrderStatus, OrderStatusChanged, StatusSource
from orderhub_common.kafka import aiokafka_options

from .conftest import RATE_LIMIT_PER_MIN, RunningGateway

pytestmark = pytest.mark.integration


async def test_signed_out_calls_are_401_and_viewers_cannot_change_orders(
    gateway: RunningGateway,
) -> None:
    async with gateway.client() as client:
        signed_out = await client.get("/api/orders")
        forged = await client.get("/api/orders", headers={"Authorization": "Bearer not.a.jwt"})
        viewer_patch = await client.patch(
            "/api/orders/o1/status", json={"status": "CONFIRMED"}, headers=gateway.bearer("viewer")
        )
        viewer_users = await client.get("/api/users", headers=gateway.bearer("viewer"))
        admin_users = await client.get("/api/users", headers=gateway.bearer("admin"))

    assert signed_out.status_code == 401
    assert signed_out.json()["error"]["code"] == "unauthorized"
    assert forged.status_code == 401
    assert viewer_patch.status_code == 403
    assert viewer_patch.json()["error"]["code"] == "forbidden"
    assert viewer_users.status_code == 403
    assert admin_users.status_code == 200
    assert gateway.orders.statuses["o1"] == "PLACED"


async def test_login_needs_no_token_and_reaches_auth_with_its_body(
    gateway: RunningGateway,
) -> None:
    async with gateway.client() as client:
        response = await client.post("/api/auth/login", json={"email": "a@b.c", "password": "x"})

    assert response.status_code == 200
    assert response.json()["received"] == {"email": "a@b.c", "password": "x"}


async def test_services_get_the_token_request_id_and_client_address(
    gateway: RunningGateway,
) -> None:
    headers = {**gateway.bearer("viewer"), "X-Request-ID": "trace-me-1", "Cookie": "s=secret"}
    async with gateway.client(ip="198.51.100.23") as client:
        response = await client.get("/api/auth/me", headers=headers)

    received = response.json()["headers"]
    assert response.headers["X-Request-ID"] == "trace-me-1"
    assert received["x-request-id"] == "trace-me-1"
    assert received["authorization"] == headers["Authorization"]
    assert received["x-forwarded-for"] == "198.51.100.23"
    assert "cookie" not in received


async def test_every_response_carries_security_headers_and_a_request_id(
    gateway: RunningGateway,
) -> None:
    async with gateway.client() as client:
        responses = [
            await client.get("/api/orders"),
            await client.get("/api/nothing-here", headers=gateway.bearer("admin")),
            await client.get("/"),
            await client.get("/healthz"),
            await client.get("/docs"),
        ]

    for response in responses:
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert "max-age=" in response.headers["Strict-Transport-Security"]
        assert response.headers["X-Request-ID"]
    unknown, spa = responses[1], responses[2]
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"
    assert spa.status_code == 503
    assert spa.json()["error"]["code"] == "spa_not_built"


async def test_cors_preflight_admits_configured_origins_only(gateway: RunningGateway) -> None:
    preflight = {"Access-Control-Request-Method": "PATCH"}
    async with gateway.client() as client:
        allowed = await client.options(
            "/api/orders", headers={**preflight, "Origin": "http://localhost:5173"}
        )
        refused = await client.options(
            "/api/orders", headers={**preflight, "Origin": "https://evil.example"}
        )

    assert allowed.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    assert "access-control-allow-origin" not in refused.headers


async def test_over_the_per_ip_limit_is_429_with_retry_after(gateway: RunningGateway) -> None:
    async with gateway.client() as client:
        first = await client.get("/api/orders")
        answers = [(await client.get("/api/orders")) for _ in range(RATE_LIMIT_PER_MIN)]

    assert first.headers["X-RateLimit-Remaining"] == str(RATE_LIMIT_PER_MIN - 1)
    assert [r.status_code for r in answers[:-1]] == [401] * (RATE_LIMIT_PER_MIN - 1)
    limited = answers[-1]
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.headers["X-RateLimit-Limit"] == str(RATE_LIMIT_PER_MIN)
    assert limited.headers["X-RateLimit-Remaining"] == "0"


async def test_over_the_per_user_limit_is_429_from_any_address(gateway: RunningGateway) -> None:
    user = f"busy-{uuid.uuid4().hex[:6]}"

    async def call_from_a_new_address() -> httpx.Response:
        async with gateway.client() as client:
            return await client.get("/api/auth/me", headers=gateway.bearer("viewer", user))

    await call_from_a_new_address()
    statuses = [(await call_from_a_new_address()).status_code for _ in range(RATE_LIMIT_PER_MIN)]

    assert statuses[:-1] == [200] * (RATE_LIMIT_PER_MIN - 1)
    assert statuses[-1] == 429


async def test_colleagues_behind_one_address_never_use_up_each_others_limit(
    gateway: RunningGateway,
) -> None:
    office = "198.51.100.77"
    busy, colleague = (gateway.bearer("viewer", f"u-{uuid.uuid4().hex[:6]}") for _ in range(2))
    async with gateway.client(ip=office) as client:
        busy_statuses = [
            (await client.get("/api/auth/me", headers=busy)).status_code
            for _ in range(RATE_LIMIT_PER_MIN + 1)
        ]
        colleague_statuses = [
            (await client.get("/api/auth/me", headers=colleague)).status_code for _ in range(5)
        ]

    assert busy_statuses == [200] * RATE_LIMIT_PER_MIN + [429]
    assert colleague_statuses == [200] * 5


async def test_sign_in_is_limited_per_address_whoever_signs_in(gateway: RunningGateway) -> None:
    async def sign_in(client: httpx.AsyncClient, n: int) -> int:
        body = {"email": f"user{n}@example.com", "password": "x"}
        return (await client.post("/api/auth/login", json=body)).status_code

    async with gateway.client() as one_address, gateway.client() as another:
        statuses = [await sign_in(one_address, n) for n in range(RATE_LIMIT_PER_MIN + 1)]
        elsewhere = await sign_in(another, 0)

    assert statuses == [200] * RATE_LIMIT_PER_MIN + [429]
    assert elsewhere == 200


async def test_forged_tokens_spend_the_addresses_limit_then_are_refused_unchecked(
    gateway: RunningGateway,
) -> None:
    forged = {"Authorization": "Bearer forged.token.value"}
    async with gateway.client() as client:
        statuses = [
            (await client.get("/api/orders", headers=forged)).status_code
            for _ in range(RATE_LIMIT_PER_MIN + 2)
        ]
        valid = await client.get("/api/auth/me", headers=gateway.bearer("viewer"))

    assert statuses == [401] * RATE_LIMIT_PER_MIN + [429, 429]
    # A token not verified yet from that address waits too; once verified it counts per user.
    assert valid.status_code == 429


async def test_a_patch_is_never_followed_by_an_older_status_in_a_detail_list_or_stats(
    gateway: RunningGateway,
) -> None:
    order_id = gateway.orders.add("PLACED")
    admin = gateway.bearer("admin")
    async with gateway.client() as client:
        reads = [
            await client.get(path, headers=admin)
            for path in (f"/api/orders/{order_id}", "/api/orders?ryw=1", "/api/orders/stats")
        ]
        cached = [await client.get(r.request.url.raw_path.decode(), headers=admin) for r in reads]
        patched = await client.patch(
            f"/api/orders/{order_id}/status", json={"status": "CONFIRMED"}, headers=admin
        )
        detail = await client.get(f"/api/orders/{order_id}", headers=admin)
        listed = await client.get("/api/orders?ryw=1", headers=admin)
        stats = await client.get("/api/orders/stats", headers=admin)

    assert [r.headers["X-Cache"] for r in cached] == ["HIT", "HIT", "HIT"]
    assert patched.status_code == 200
    assert detail.headers["X-Cache"] == "MISS"
    assert detail.json()["order"]["status"] == "CONFIRMED"
    assert listed.headers["X-Cache"] == "MISS"
    assert {"id": order_id, "status": "CONFIRMED"} in listed.json()["orders"]
    assert stats.headers["X-Cache"] == "MISS"
    assert stats.json() != cached[2].json()


async def test_another_admins_change_leaves_my_cached_lists_until_they_expire(
    gateway: RunningGateway,
) -> None:
    order_id = gateway.orders.add("PLACED")
    writer, reader = gateway.bearer("admin", "writer-1"), gateway.bearer("admin", "reader-1")
    query = f"/api/orders?others-write={uuid.uuid4().hex[:8]}"
    async with gateway.client() as client:
        await client.get(query, headers=reader)
        patched = await client.patch(
            f"/api/orders/{order_id}/status", json={"status": "CONFIRMED"}, headers=writer
        )
        readers_list = await client.get(query, headers=reader)
        writers_list = await client.get(query, headers=writer)
        readers_detail = await client.get(f"/api/orders/{order_id}", headers=reader)

    assert patched.status_code == 200
    # Shared while fresh (GATEWAY_LIST_CACHE_TTL_S), like a list while orders flow in.
    assert readers_list.headers["X-Cache"] == "HIT"
    # The writer's own list, and anyone's detail of the order, come from after the change.
    assert writers_list.headers["X-Cache"] == "MISS"
    assert {"id": order_id, "status": "CONFIRMED"} in writers_list.json()["orders"]
    assert readers_detail.json()["order"]["status"] == "CONFIRMED"


async def test_concurrent_misses_of_one_entry_ask_the_service_once(
    gateway: RunningGateway,
) -> None:
    query = f"single-flight={uuid.uuid4().hex[:8]}&delay=0.3"
    viewer = gateway.bearer("viewer")
    async with gateway.client() as client:
        answers = await asyncio.gather(
            *(client.get(f"/api/orders?{query}", headers=viewer) for _ in range(20))
        )

    assert [a.status_code for a in answers] == [200] * 20
    assert {a.headers["X-Cache"] for a in answers} == {"MISS"}
    assert len({a.text for a in answers}) == 1
    assert gateway.orders.reads_of[f"/orders?{query}"] == 1


async def test_different_queries_and_errors_are_not_mixed_up_in_the_cache(
    gateway: RunningGateway,
) -> None:
    viewer = gateway.bearer("viewer")
    async with gateway.client() as client:
        await client.get("/api/orders?status=PLACED&page=1", headers=viewer)
        reordered = await client.get("/api/orders?page=1&status=PLACED", headers=viewer)
        other = await client.get("/api/orders?page=2&status=PLACED", headers=viewer)
        missing = [await client.get("/api/orders/nope", headers=viewer) for _ in range(2)]

    assert reordered.headers["X-Cache"] == "HIT"
    assert other.headers["X-Cache"] == "MISS"
    assert [m.status_code for m in missing] == [404, 404]
    assert [m.headers["X-Cache"] for m in missing] == ["MISS", "MISS"]
    assert missing[0].json()["error"]["code"] == "order_not_found"


async def test_a_service_that_is_down_answers_503_fast_and_others_keep_working(
    gateway: RunningGateway,
) -> None:
    viewer = gateway.bearer("viewer")
    async with gateway.client() as client:
        started = time.monotonic()
        down = [await client.get("/api/channels", headers=viewer) for _ in range(5)]
        elapsed = time.monotonic() - started
        orders = await client.get("/api/orders/stats", headers=viewer)

    assert [r.status_code for r in down] == [503] * 5
    assert down[0].json()["error"]["code"] == "service_unavailable"
    assert "Retry-After" in down[-1].headers  # the breaker is open: no more waiting at all
    assert elapsed < 3
    assert orders.status_code == 200


async def _publish_status_change(gateway: RunningGateway, order_id: str) -> None:
    event = OrderStatusChanged(
        order_id=order_id,
        channel=Channel.WEBSITE,
        external_id="ext-1",
        previous_status=OrderStatus.PLACED,
        status=OrderStatus.CONFIRMED,
        changed_by=None,
        source=StatusSource.CHANNEL,
        changed_at=datetime.now(UTC),
    )
    producer = AIOKafkaProducer(**aiokafka_options(gateway.settings))
    await producer.start()
    try:
        await producer.send_and_wait(
            gateway.topics.order_events, event.model_dump_json().encode(), key=order_id.encode()
        )
    finally:
        await producer.stop()


async def test_an_order_event_drops_that_orders_detail_but_not_lists_or_other_orders(
    gateway: RunningGateway,
) -> None:
    changed, other = gateway.orders.add(), gateway.orders.add()
    viewer = gateway.bearer("viewer")
    paths = [f"/api/orders/{changed}", f"/api/orders/{other}", "/api/orders?ingest=1"]
    async with gateway.client() as client:
        for path in paths:
            await client.get(path, headers=viewer)

        async def detail_read_again() -> bool:
            # The gateway's consumer starts at the latest offset once it has joined its group,
            # so the event is sent again until one arrives.
            await _publish_status_change(gateway, changed)
            await asyncio.sleep(0.5)
            detail = await client.get(paths[0], headers=viewer)
            return detail.headers["X-Cache"] == "MISS"

        await eventually(detail_read_again, timeout_s=30, what="the order event to reach it")
        others = [await client.get(path, headers=viewer) for path in paths[1:]]

    # Fresh for CACHE_TTL_S (30 s): whatever the list cache holds comes from before the loop.
    assert [r.headers["X-Cache"] for r in others] == ["HIT", "HIT"]


async def test_an_event_that_does_not_decode_drops_every_cached_detail_and_stops_nothing(
    gateway: RunningGateway,
) -> None:
    cached = gateway.orders.add()
    viewer = gateway.bearer("viewer")
    async with gateway.client() as client:
        await client.get(f"/api/orders/{cached}", headers=viewer)
        producer = AIOKafkaProducer(**aiokafka_options(gateway.settings))
        await producer.start()

        async def detail_read_again() -> bool:
            # Sent again until the consumer, which starts at the latest offset, has joined.
            await producer.send_and_wait(gateway.topics.order_events, b'{"eventType": "order.')
            await asyncio.sleep(0.5)
            detail = await client.get(f"/api/orders/{cached}", headers=viewer)
            return detail.headers["X-Cache"] == "MISS"

        try:
            await eventually(detail_read_again, timeout_s=30, what="the broken event to reach it")
        finally:
            await producer.stop()
        # The events after it are still read: a later one drops its order's detail as ever.
        other = gateway.orders.add()
        await client.get(f"/api/orders/{other}", headers=viewer)

        async def other_read_again() -> bool:
            await _publish_status_change(gateway, other)
            await asyncio.sleep(0.5)
            detail = await client.get(f"/api/orders/{other}", headers=viewer)
            return detail.headers["X-Cache"] == "MISS"

        await eventually(other_read_again, timeout_s=30, what="the next event to reach it")


async def test_events_stream_delivers_order_events_with_heartbeats(
    gateway: RunningGateway,
) -> None:
    token = gateway.tokens.mint("viewer")
    received: list[dict[str, str]] = []
    saw_heartbeat = False

    async def read_stream(lines) -> None:  # type: ignore[no-untyped-def]
        nonlocal saw_heartbeat
        event: dict[str, str] = {}
        async for line in lines:
            if line.startswith(":") and "ping" in line:
                saw_heartbeat = True
            elif line == "" and event:
                received.append(event)
                event = {}
                if saw_heartbeat:
                    return
            elif ":" in line and not line.startswith(":"):
                name, _, value = line.partition(":")
                event[name] = value.strip()

    async with (
        gateway.client() as client,
        client.stream("GET", "/api/events", headers={"Authorization": f"Bearer {token}"}) as stream,
    ):
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        reader = asyncio.create_task(read_stream(stream.aiter_lines()))
        deadline = time.monotonic() + 30
        while not reader.done() and time.monotonic() < deadline:
            await _publish_status_change(gateway, f"sse-{uuid.uuid4().hex[:6]}")
            await asyncio.wait([reader], timeout=1)
        reader.cancel()

    events = [e for e in received if e.get("event") == "orders.changed"]
    assert events, "no order event arrived on the stream"
    change = json.loads(events[0]["data"])["changes"][0]
    assert events[0]["id"]
    assert change["orderId"].startswith("sse-")
    assert change["status"] == "CONFIRMED"
    assert saw_heartbeat


async def test_the_events_stream_needs_a_valid_token_in_the_header_never_the_url(
    gateway: RunningGateway,
) -> None:
    valid = gateway.tokens.mint("viewer")
    async with gateway.client() as client:
        missing = await client.get("/api/events")
        forged = await client.get("/api/events", headers={"Authorization": "Bearer forged"})
        in_the_url = await client.get(f"/api/events?access_token={valid}")

    assert (missing.status_code, forged.status_code, in_the_url.status_code) == (401, 401, 401)


async def test_health_and_openapi_survive_a_service_being_down(gateway: RunningGateway) -> None:
    async with gateway.client() as client:
        ready = await client.get("/readyz")
        health = await client.get("/api/health", headers=gateway.bearer("viewer"))
        document = (await client.get("/openapi.json")).json()

    assert ready.status_code == 200
    assert health.json()["status"] == "degraded"
    assert health.json()["services"]["ingest"]["status"] == "down"
    assert health.json()["services"]["orders"]["status"] == "ok"
    assert "/api/orders/{order_id}/status" in document["paths"]
    assert "/api/auth/login" in document["paths"]
    assert "/api/events" in document["paths"]
    assert "/api/channels" not in document["paths"]


async def test_metrics_count_cache_hits_refusals_and_outages(gateway: RunningGateway) -> None:
    viewer = gateway.bearer("viewer")
    async with gateway.client() as client:
        await client.get("/api/orders?metrics=1", headers=viewer)
        await client.get("/api/orders?metrics=1", headers=viewer)
        await client.get("/api/channels", headers=viewer)
    async with gateway.client(ip="127.0.0.1") as monitor:  # /metrics: the monitoring network
        metrics = (await monitor.get("/metrics")).text

    assert 'gateway_cache_lookups_total{result="hit"}' in metrics
    assert 'gateway_upstream_unavailable_total{upstream="ingest"}' in metrics
    assert "gateway_sse_clients " in metrics
