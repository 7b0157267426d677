"""Order writes sent twice with one Idempotency-Key (a double click, a retry) are applied once,
against real Redis, with a fake orders service behind the gateway."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from .conftest import RunningGateway

pytestmark = pytest.mark.integration


async def test_a_double_click_on_add_note_adds_the_note_once(gateway: RunningGateway) -> None:
    order_id = gateway.orders.add()
    admin = {**gateway.bearer("admin"), "Idempotency-Key": str(uuid.uuid4())}
    gateway.orders.write_delay_s = 0.3
    try:
        async with gateway.client() as client:
            first, second = await asyncio.gather(
                client.post(f"/api/orders/{order_id}/notes", json={"text": "hi"}, headers=admin),
                client.post(f"/api/orders/{order_id}/notes", json={"text": "hi"}, headers=admin),
            )
            later = await client.post(
                f"/api/orders/{order_id}/notes", json={"text": "hi"}, headers=admin
            )
    finally:
        gateway.orders.write_delay_s = 0.0
    assert gateway.orders.notes[order_id] == ["hi"]
    assert first.status_code == second.status_code == later.status_code == 201
    assert first.json() == second.json() == later.json()
    assert {
        first.headers.get("Idempotent-Replayed"),
        second.headers.get("Idempotent-Replayed"),
    } == {
        None,
        "true",
    }


async def test_a_double_click_on_a_move_reads_the_move_not_a_false_conflict(
    gateway: RunningGateway,
) -> None:
    order_id = gateway.orders.add()
    key = {"Idempotency-Key": str(uuid.uuid4())}
    admin = {**gateway.bearer("admin", "u-clicker"), **key}
    gateway.orders.write_delay_s = 0.3
    try:
        async with gateway.client() as client:
            path = f"/api/orders/{order_id}/status"
            answers = await asyncio.gather(
                client.patch(path, json={"status": "CONFIRMED"}, headers=admin),
                client.patch(path, json={"status": "CONFIRMED"}, headers=admin),
            )
            # Without a key, a second identical move is the service's conflict, as before.
            plain = await client.patch(
                path, json={"status": "CONFIRMED"}, headers=gateway.bearer("admin")
            )
            # The same key for another request is refused; another user's key is their own.
            reused = await client.patch(path, json={"status": "SHIPPED"}, headers=admin)
            other_user = await client.patch(
                path,
                json={"status": "SHIPPED"},
                headers={**gateway.bearer("admin", "u-other"), **key},
            )
            bad_key = await client.patch(
                path,
                json={"status": "SHIPPED"},
                headers={**gateway.bearer("admin"), "Idempotency-Key": "no spaces"},
            )
    finally:
        gateway.orders.write_delay_s = 0.0
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].json() == answers[1].json()
    assert plain.status_code == 409
    assert reused.status_code == 422
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    assert other_user.status_code == 200
    assert bad_key.status_code == 400
    assert gateway.orders.statuses[order_id] == "SHIPPED"
