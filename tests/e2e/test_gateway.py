"""The gateway through the real stack: edge security, rate limits, cache, SSE and the API schema."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from devstack.pytest_plugin import eventually_sync

pytestmark = pytest.mark.e2e

ORDER_WAIT_S = 60
EXAMPLES_PER_OPERATION = 10
BURST_MARGIN_S = 15


def _own_address() -> dict[str, str]:
    """Calls from an address of their own (the gateway trusts X-Forwarded-For from localhost),
    so a test that exhausts a rate limit never throttles the rest of the suite."""
    return {"X-Forwarded-For": ".".join(["10", *(str(b) for b in uuid.uuid4().bytes[:3])])}


@pytest.fixture
def client(gateway_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway_url, headers=_own_address(), timeout=15) as client:
        yield client


@pytest.fixture(scope="module")
def order(
    gateway_url: str, mock_channels_url: str, admin_headers: dict[str, str]
) -> dict[str, Any]:
    """A fresh PLACED order, created at a channel and ingested through the whole pipeline."""
    created = httpx.post(
        f"{mock_channels_url}/_control/website/orders", json={"count": 1}, timeout=10
    )
    created.raise_for_status()
    external_id = created.json()["created"][0]
    found: list[dict[str, Any]] = []
    with httpx.Client(base_url=gateway_url, headers=_own_address(), timeout=10) as client:

        def ingested() -> bool:
            page = client.get(
                "/api/orders",
                params={"search": external_id, "channel": "website"},
                headers=admin_headers,
            ).json()
            found.extend(page.get("orders") or [])
            return bool(found)

        eventually_sync(ingested, timeout_s=ORDER_WAIT_S, what=f"order {external_id} ingested")
    return dict(found[0])


def test_every_response_has_security_headers_and_echoes_the_request_id(
    client: httpx.Client, admin_headers: dict[str, str]
) -> None:
    api = client.get("/api/orders", headers={**admin_headers, "X-Request-ID": "e2e-echo-1"})
    generated = client.get("/api/orders")
    for response in (api, generated, client.get("/"), client.get("/docs")):
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert "max-age=" in response.headers["Strict-Transport-Security"]
        assert response.headers["Referrer-Policy"]
        assert response.headers["X-Request-ID"]
    assert api.status_code == 200
    assert api.headers["X-Request-ID"] == "e2e-echo-1"
    assert generated.status_code == 401
    assert generated.json()["error"]["requestId"] == generated.headers["X-Request-ID"]


def test_unknown_api_paths_are_json_404s_and_viewers_cannot_manage(
    client: httpx.Client, viewer_headers: dict[str, str], order: dict[str, Any]
) -> None:
    unknown = client.get("/api/no-such-thing", headers=viewer_headers)
    users = client.get("/api/users", headers=viewer_headers)
    patch = client.patch(
        f"/api/orders/{order['id']}/status", json={"status": "CONFIRMED"}, headers=viewer_headers
    )

    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"
    assert (users.status_code, patch.status_code) == (403, 403)
    assert patch.json()["error"]["code"] == "forbidden"


def test_over_the_per_address_limit_is_429_with_retry_after(client: httpx.Client) -> None:
    # Unauthenticated calls are counted before the token check, so this costs no service a thing.
    first = client.get("/api/orders")
    if int(first.headers["X-RateLimit-Reset"]) < BURST_MARGIN_S:
        # Windows restart on the minute: start the burst with time to spare, so it stays in one.
        time.sleep(int(first.headers["X-RateLimit-Reset"]) + 0.1)
        first = client.get("/api/orders")
    limit = int(first.headers["X-RateLimit-Limit"])
    assert int(first.headers["X-RateLimit-Remaining"]) == limit - 1

    async def exhaust() -> list[int]:
        async with httpx.AsyncClient(
            base_url=str(client.base_url), headers=dict(client.headers), timeout=15
        ) as burst:
            gate = asyncio.Semaphore(20)

            async def one() -> int:
                async with gate:
                    return (await burst.get("/api/orders")).status_code

            return await asyncio.gather(*(one() for _ in range(limit)))

    statuses = asyncio.run(exhaust())
    limited = client.get("/api/orders")

    assert statuses.count(401) == limit - 1
    assert statuses.count(429) == 1
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.headers["X-RateLimit-Remaining"] == "0"


def test_a_patch_is_never_followed_by_a_cached_older_status(
    client: httpx.Client, admin_headers: dict[str, str], order: dict[str, Any]
) -> None:
    path = f"/api/orders/{order['id']}"
    first = client.get(path, headers=admin_headers)
    second = client.get(path, headers=admin_headers)
    moved = client.patch(f"{path}/status", json={"status": "CONFIRMED"}, headers=admin_headers)
    after = client.get(path, headers=admin_headers)

    assert second.headers["X-Cache"] == "HIT"
    assert second.json() == first.json()
    assert moved.status_code == 200, moved.text
    assert after.headers["X-Cache"] == "MISS"
    assert after.json()["order"]["status"] == "CONFIRMED"


def test_the_events_stream_delivers_a_change_made_by_another_client(
    gateway_url: str,
    admin_headers: dict[str, str],
    viewer_headers: dict[str, str],
    order: dict[str, Any],
) -> None:
    async def watch_and_change() -> dict[str, Any]:
        async with (
            httpx.AsyncClient(base_url=gateway_url, headers=_own_address(), timeout=30) as viewer,
            httpx.AsyncClient(base_url=gateway_url, headers=_own_address(), timeout=15) as admin,
            viewer.stream("GET", "/api/events", headers=viewer_headers) as stream,
        ):
            assert stream.status_code == 200
            lines = stream.aiter_lines()
            assert (await anext(lines)).startswith(":")  # subscribed from here on
            current = (await admin.get(f"/api/orders/{order['id']}", headers=admin_headers)).json()
            target = "SHIPPED" if current["order"]["status"] == "CONFIRMED" else "CANCELLED"
            needs = (
                {"shipment": {"carrier": "Delhivery", "trackingNumber": "DL-9"}}
                if target == "SHIPPED"
                else {"note": "the customer asked"}
            )
            moved = await admin.patch(
                f"/api/orders/{order['id']}/status",
                json={"status": target, **needs},
                headers=admin_headers,
            )
            assert moved.status_code == 200, moved.text
            return await asyncio.wait_for(_status_change_of(lines, order["id"], target), 30)

    event = asyncio.run(watch_and_change())

    assert event["event"] == "orders.changed"
    assert event["id"]  # where a reconnect resumes (Last-Event-ID)
    assert event["change"]["kind"] == "changed"
    assert event["change"]["eventType"] == "order.status_changed"


async def _status_change_of(lines: Any, order_id: str, status: str) -> dict[str, Any]:
    """The stream's message announcing ``order_id`` moving to ``status`` (an earlier move of the
    same order may still be on its way and arrive first), with that change as ``change``."""
    event: dict[str, Any] = {}
    async for line in lines:
        if line:
            if not line.startswith(":"):
                name, _, value = line.partition(":")
                event[name] = value.strip()
            continue
        is_change = event.get("event") == "orders.changed"
        changes = json.loads(event["data"])["changes"] if is_change else []
        for change in changes:
            if change["orderId"] == order_id and change.get("status") == status:
                return {**event, "change": change}
        event = {}
    raise AssertionError("the stream ended")


def test_the_docs_and_the_combined_openapi_document_are_served(client: httpx.Client) -> None:
    docs = client.get("/docs")
    document = client.get("/openapi.json").json()

    assert docs.status_code == 200
    assert "swagger-ui" in docs.text
    # The docs work offline: Swagger UI comes from the gateway itself, never from a CDN.
    assert "https://" not in docs.text
    for asset in ("/swagger/swagger-ui-bundle.js", "/swagger/swagger-ui.css"):
        assert asset in docs.text
        assert client.get(asset).status_code == 200, asset
    for path in (
        "/api/auth/login",
        "/api/users",
        "/api/orders",
        "/api/orders/{order_id}",
        "/api/orders/{order_id}/status",
        "/api/orders/stats",
        "/api/channels",
        "/api/events",
    ):
        assert path in document["paths"], path
    order_page = document["paths"]["/api/orders"]["get"]["responses"]["200"]
    assert order_page["content"]["application/json"]["schema"]["$ref"].startswith(
        "#/components/schemas/"
    )


@pytest.fixture(scope="module")
def schemathesis_admin(gateway_url: str, admin_headers: dict[str, str]) -> dict[str, str]:
    """An admin of its own, so the generated traffic has its own per-user rate limit."""
    email = f"schemathesis-{uuid.uuid4().hex[:8]}@orderhub.local"
    password = f"pw-{uuid.uuid4().hex}"
    with httpx.Client(base_url=gateway_url, headers=_own_address(), timeout=10) as client:
        created = client.post(
            "/api/users",
            json={"email": email, "password": password, "role": "admin"},
            headers=admin_headers,
        )
        assert created.status_code in (200, 201), created.text
        login = client.post("/api/auth/login", json={"email": email, "password": password})
        login.raise_for_status()
    return {"Authorization": f"Bearer {login.json()['accessToken']}", **_own_address()}


@pytest.fixture(scope="module")
def api_operations(gateway_url: str) -> list[APIOperation]:
    schema = schemathesis.openapi.from_url(f"{gateway_url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    # The event stream never ends by design; its own test above covers it.
    return [operation for operation in operations if operation.path != "/api/events"]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_never_fails_and_always_answers_as_documented(
    api_operations: list[APIOperation],
    gateway_url: str,
    schemathesis_admin: dict[str, str],
    mode: GenerationMode,
) -> None:
    assert len(api_operations) >= 10
    failures = []
    for operation in api_operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def exercise(case: Case) -> None:
            case.call_and_validate(
                base_url=gateway_url,
                headers=schemathesis_admin,
                checks=[not_a_server_error, response_schema_conformance],
                timeout=15,
            )

        try:
            exercise()
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE  # nothing in this operation can be invalid
        except Exception as exc:
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
