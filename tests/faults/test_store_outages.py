"""The broker, the store, the query side and Redis stopped for real, one at a time, under
ingest: what users see during the outage, and after it the exact order set, once each."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from devstack.pytest_plugin import eventually_sync
from devstack.stack import Stack

pytestmark = pytest.mark.faults

OUTAGE_S = 30
CHANNELS = ("website", "amazon", "blinkit")


def fresh(headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "Cache-Control": "no-cache"}


def an_order(gateway: str, headers: dict[str, str], status: str = "PLACED") -> str:
    response = httpx.get(
        f"{gateway}/api/orders",
        params={"status": status, "limit": 1},
        headers=fresh(headers),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return str(response.json()["orders"][0]["id"])


def move(gateway: str, headers: dict[str, str], order_id: str, status: str) -> httpx.Response:
    # The client's timeout is the bound on "a fast answer": a hung call fails the test.
    return httpx.patch(
        f"{gateway}/api/orders/{order_id}/status",
        json={"status": status},
        headers=headers,
        timeout=5,
    )


def wait_out(started: float) -> None:
    """The fault lasts OUTAGE_S from ``started`` (the outage itself, not a wait for an outcome)."""
    time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - started)))


def ready_throughout(service_urls: dict[str, str], dependency: str, started: float) -> None:
    """Until the outage ends, each service's ``/readyz`` answers 200 every time it is asked (a
    Kubernetes probe every 5 s would keep every pod in its Service) and, once the service has
    noticed, names the dependency degraded: readiness is "can serve in the documented mode"."""
    noticed = dict.fromkeys(service_urls, False)
    while True:
        for service, url in service_urls.items():
            ready = httpx.get(f"{url}/readyz", timeout=10)
            assert ready.status_code == 200, f"{service}: {ready.text}"
            says = ready.json()["checks"][dependency]
            noticed[service] = noticed[service] or says.startswith("degraded")
        if time.monotonic() - started >= OUTAGE_S:
            break
        time.sleep(2)
    assert all(noticed.values()), f"/readyz never said {dependency} was degraded: {noticed}"


def test_kafka_stopped_for_30s_during_ingest_loses_and_doubles_nothing(
    pipeline: Any, stack: Stack, urls: dict[str, str], admin_headers: dict[str, str]
) -> None:
    for channel in CHANNELS:
        pipeline.place(channel, 60)
    eventually_sync(
        lambda: len(pipeline.stored_pairs()) > 0, timeout_s=60, what="ingest to be under way"
    )
    stack.stop("kafka")
    started = time.monotonic()
    try:
        for channel in CHANNELS:
            pipeline.place(channel, 20)
        listed = httpx.get(f"{urls['gateway']}/api/orders", headers=admin_headers, timeout=10)
        assert listed.status_code == 200, "reads come from the query side, not the broker"
        every_service = {name: urls[name] for name in ("gateway", "orders", "auth", "ingest")}
        ready_throughout(every_service, "kafka", started)
    finally:
        stack.start("kafka")
    pipeline.settled()


def test_mongodb_stopped_for_30s_pauses_consumers_and_keeps_reads_serving(
    pipeline: Any, stack: Stack, urls: dict[str, str], admin_headers: dict[str, str]
) -> None:
    gateway = urls["gateway"]
    for channel in CHANNELS:
        pipeline.place(channel, 10)
    pipeline.settled()
    order_id = an_order(gateway, admin_headers)
    dead_letters = pipeline.dead_letters()

    stack.stop("mongodb")
    started = time.monotonic()
    try:
        ready = httpx.get(f"{urls['orders']}/readyz", timeout=10)
        assert ready.status_code == 503
        assert "mongodb" in ready.json()["failing"]
        for channel in CHANNELS:
            pipeline.place(channel, 20)
        listed = httpx.get(f"{gateway}/api/orders", headers=fresh(admin_headers), timeout=10)
        assert listed.status_code == 200, listed.text
        assert listed.json()["pagination"]["total"] > 0
        moved = move(gateway, admin_headers, order_id, "CONFIRMED")
        assert moved.status_code == 503, moved.text
        assert moved.json()["error"]["code"] == "service_unavailable"
        assert moved.headers.get("Retry-After")
        wait_out(started)
    finally:
        stack.start("mongodb")

    eventually_sync(
        lambda: httpx.get(f"{urls['orders']}/readyz", timeout=10).status_code == 200,
        timeout_s=60,
        what="orders ready again",
    )
    pipeline.settled()
    assert pipeline.dead_letters() == dead_letters, "good events were dead-lettered"
    moved = move(gateway, admin_headers, order_id, "CONFIRMED")
    assert moved.status_code == 200, moved.text


def test_postgres_stopped_lists_answer_503_while_ingest_and_moves_go_on(
    pipeline: Any, stack: Stack, urls: dict[str, str], admin_headers: dict[str, str]
) -> None:
    gateway = urls["gateway"]
    for channel in CHANNELS:
        pipeline.place(channel, 10)
    pipeline.settled()
    order_id = an_order(gateway, admin_headers)

    stack.stop("postgres")
    try:
        listed = httpx.get(f"{gateway}/api/orders", headers=fresh(admin_headers), timeout=5)
        assert listed.status_code == 503, listed.text
        assert listed.json()["error"]["code"] == "service_unavailable"
        for channel in CHANNELS:
            pipeline.place(channel, 20)
        pipeline.wait_arrived(timeout_s=90)
        moved = move(gateway, admin_headers, order_id, "CONFIRMED")
        assert moved.status_code == 200, moved.text
        assert moved.json()["order"]["status"] == "CONFIRMED"
        # The order's detail comes from MongoDB meanwhile.
        shown = httpx.get(
            f"{gateway}/api/orders/{order_id}", headers=fresh(admin_headers), timeout=5
        )
        assert shown.status_code == 200, shown.text
        assert shown.json()["order"]["status"] == "CONFIRMED"
    finally:
        stack.start("postgres")

    pipeline.settled()
    shown = httpx.get(f"{gateway}/api/orders/{order_id}", headers=fresh(admin_headers), timeout=5)
    assert shown.json()["order"]["status"] == "CONFIRMED"

    def move_projected() -> bool:
        # Lists come from the query side: the move made during the outage reached it too.
        listed = httpx.get(
            f"{gateway}/api/orders",
            params={"status": "CONFIRMED", "limit": 100},
            headers=fresh(admin_headers),
            timeout=5,
        )
        return order_id in {o["id"] for o in listed.json()["orders"]}

    eventually_sync(move_projected, timeout_s=60, what="the move in the query side's lists")


def test_redis_stopped_edge_fails_open_sign_in_fails_closed_and_cursors_stay_safe(
    pipeline: Any,
    stack: Stack,
    urls: dict[str, str],
    admin_headers: dict[str, str],
    credentials: dict[str, tuple[str, str]],
) -> None:
    gateway = urls["gateway"]
    for channel in CHANNELS:
        pipeline.place(channel, 10)
    pipeline.settled()

    stack.stop("redis")
    started = time.monotonic()
    try:
        # Rate limits and the read cache fail open: signed-in reads keep working.
        listed = httpx.get(f"{gateway}/api/orders", headers=admin_headers, timeout=5)
        assert listed.status_code == 200, listed.text
        # Sign-in fails closed: without its throttle, passwords could be guessed unthrottled.
        email, password = credentials["viewer"]
        signed_in = httpx.post(
            f"{gateway}/api/auth/login", json={"email": email, "password": password}, timeout=5
        )
        assert signed_in.status_code == 503, signed_in.text
        assert signed_in.json()["error"]["code"] == "service_unavailable"
        # Ingest cannot read or move a cursor: it polls nothing rather than losing its place.
        for channel in CHANNELS:
            pipeline.place(channel, 20)
        # Ingest is the one that needs Redis to serve (its cursors and channel state).
        ready_throughout(
            {name: urls[name] for name in ("gateway", "orders", "auth")}, "redis", started
        )
    finally:
        stack.start("redis")

    pipeline.settled()
    email, password = credentials["viewer"]
    signed_in = httpx.post(
        f"{gateway}/api/auth/login", json={"email": email, "password": password}, timeout=5
    )
    assert signed_in.status_code == 200, signed_in.text
