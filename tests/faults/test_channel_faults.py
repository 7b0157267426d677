"""A channel that is down or flaky degrades only itself, and every order still arrives once."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from devstack.pytest_plugin import eventually_sync

pytestmark = pytest.mark.faults


def channel_rows(gateway_url: str, headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    response = httpx.get(f"{gateway_url}/api/channels", headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    return {row["channel"]: row for row in response.json()}


def order_id_of(gateway_url: str, headers: dict[str, str], external_id: str) -> str:
    response = httpx.get(
        f"{gateway_url}/api/orders",
        params={"search": external_id},
        headers={**headers, "Cache-Control": "no-cache"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    [order] = [o for o in response.json()["orders"] if o["externalId"] == external_id]
    return str(order["id"])


def test_one_channel_down_degrades_only_that_channel_and_its_backlog_arrives_once(
    pipeline: Any,
    urls: dict[str, str],
    admin_headers: dict[str, str],
    credentials: dict[str, tuple[str, str]],
) -> None:
    gateway = urls["gateway"]
    pipeline.set_faults("amazon", down=True)
    backlog = set(pipeline.place("amazon", 30))
    flowing = {c: pipeline.place(c, 30) for c in ("website", "blinkit")}

    def others_flow_and_amazon_is_open() -> bool:
        stored = set(pipeline.stored_pairs())
        rows = channel_rows(gateway, admin_headers)
        return rows["amazon"]["circuit"] == "open" and all(
            (c, e) in stored for c, ids in flowing.items() for e in ids
        )

    eventually_sync(others_flow_and_amazon_is_open, timeout_s=90, what="others in, amazon open")
    rows = channel_rows(gateway, admin_headers)
    assert "503" in (rows["amazon"]["lastError"] or "")
    assert {rows[c]["circuit"] for c in ("website", "blinkit")} == {"closed"}
    stored_amazon = {e for c, e in pipeline.stored_pairs() if c == "amazon"}
    assert not backlog & stored_amazon, "a down channel answered nothing, yet its orders came"

    # Reads, status moves and sign-ins keep working while amazon is down.
    listed = httpx.get(f"{gateway}/api/orders", headers=admin_headers, timeout=10)
    assert listed.status_code == 200, listed.text
    order_id = order_id_of(gateway, admin_headers, flowing["website"][0])
    moved = httpx.patch(
        f"{gateway}/api/orders/{order_id}/status",
        json={"status": "CONFIRMED"},
        headers=admin_headers,
        timeout=10,
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["order"]["status"] == "CONFIRMED"
    email, password = credentials["viewer"]
    signed_in = httpx.post(
        f"{gateway}/api/auth/login", json={"email": email, "password": password}, timeout=10
    )
    assert signed_in.status_code == 200, signed_in.text

    pipeline.set_faults("amazon")
    pipeline.settled()
    eventually_sync(
        lambda: channel_rows(gateway, admin_headers)["amazon"]["circuit"] == "closed",
        timeout_s=60,
        what="amazon's circuit to close",
    )


def test_channels_failing_30_percent_of_calls_with_200ms_latency_lose_and_double_nothing(
    pipeline: Any,
) -> None:
    for channel in ("website", "amazon", "blinkit"):
        pipeline.set_faults(channel, error_rate=0.3, latency_ms=200)
    for _ in range(3):
        for channel in ("website", "amazon", "blinkit"):
            pipeline.place(channel, 40)
    pipeline.wait_arrived(timeout_s=240)
    pipeline.clear_faults()
    pipeline.settled()
