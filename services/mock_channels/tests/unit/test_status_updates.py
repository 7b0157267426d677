"""The channels' native status-update APIs: each in its own shape, applied once per idempotency
key, refused when the channel's order cannot make the move, subject to faults (Amazon's:
test_amazon_sp_api.py)."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.unit


async def _new(client: httpx.AsyncClient, channel: str) -> str:
    response = await client.post(f"/_control/{channel}/orders", json={"count": 1})
    created: list[str] = response.json()["created"]
    return created[0]


async def test_a_repeated_update_with_one_key_is_applied_once(client: httpx.AsyncClient) -> None:
    order = await _new(client, "blinkit")
    for _ in range(3):
        answer = await client.patch(
            f"/blinkit/v1/orders/{order}/status",
            json={"status": "accepted"},
            headers={"X-Idempotency-Key": "k1"},
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["order"]["status"] == "accepted"
    applied = (await client.get(f"/_control/blinkit/orders/{order}/write-backs")).json()
    assert applied == [{"idempotencyKey": "k1", "status": "CONFIRMED"}]


async def test_shipping_carries_the_sellers_carrier_and_tracking(client: httpx.AsyncClient) -> None:
    order = await _new(client, "blinkit")
    path = f"/blinkit/v1/orders/{order}/status"
    await client.patch(path, json={"status": "accepted"}, headers={"X-Idempotency-Key": "a"})
    shipped = await client.patch(
        path,
        json={"status": "dispatched", "rider": {"partner": "Blue Dart", "awb": "BD1"}},
        headers={"X-Idempotency-Key": "b"},
    )
    assert shipped.status_code == 200, shipped.text
    shown = (await client.get(f"/_control/blinkit/orders/{order}")).json()
    assert shown["rider"]["partner"] == "Blue Dart"
    assert shown["rider"]["awb"] == "BD1"


async def test_updates_are_subject_to_faults_and_need_a_key(client: httpx.AsyncClient) -> None:
    order = await _new(client, "blinkit")
    path = f"/blinkit/v1/orders/{order}/status"
    no_key = await client.patch(path, json={"status": "accepted"})
    assert no_key.status_code == 422
    await client.put(
        "/_control/blinkit/faults", json={"down": True, "errorRate": 0, "latencyMs": 0}
    )
    down = await client.patch(path, json={"status": "accepted"}, headers={"X-Idempotency-Key": "k"})
    assert down.status_code == 503
    assert (await client.get(f"/_control/blinkit/orders/{order}/write-backs")).json() == []
