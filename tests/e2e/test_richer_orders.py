"""Richer orders, black box (issue 14): fulfilment data from each channel's native format to the
API, RETURNED after DELIVERED only, notes and tags found by search and filter, a customer's
other orders, and a dead letter replayed into a stored order."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from devstack.pytest_plugin import eventually, eventually_sync
from orderhub_common.kafka import Topics
from orderhub_common.testing import order_fields

pytestmark = pytest.mark.e2e

API_WAIT_S = 60
CHANNELS = ("website", "amazon", "blinkit")
# Each channel's own words for a prepaid or cash-on-delivery order.
NATIVE_PAYMENT = {
    "website": lambda n: (
        "cash_on_delivery" if "Cash on Delivery (COD)" in n["payment_gateway_names"] else "prepaid"
    ),
    "amazon": lambda n: "cash_on_delivery" if n["PaymentMethod"] == "COD" else "prepaid",
    "blinkit": lambda n: "cash_on_delivery" if n["payment_mode"] == "COD" else "prepaid",
}
NATIVE_CITY = {
    "website": lambda n: n["shipping_address"]["city"],
    "amazon": lambda n: n["ShippingAddress"]["City"],
    "blinkit": lambda n: n["delivery_address"]["city"],
}
NATIVE_TRACKING = {
    "website": lambda n: (
        n["fulfillments"][0]["tracking_company"],
        n["fulfillments"][0]["tracking_number"],
    ),
    "amazon": lambda n: (n["EasyShipPackage"]["CarrierName"], n["EasyShipPackage"]["TrackingId"]),
    "blinkit": lambda n: (n["rider"]["partner"], n["rider"]["awb"]),
}
FRESH = {"Cache-Control": "no-cache"}


@pytest.fixture(scope="module")
def api(gateway_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{gateway_url}/api", timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def control(mock_channels_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{mock_channels_url}/_control", timeout=30) as client:
        yield client


def find(api: httpx.Client, headers: dict[str, str], channel: str, external_id: str) -> Any:
    response = api.get(
        "/orders",
        params={"search": external_id, "channel": channel},
        headers={**headers, **FRESH},
    )
    assert response.status_code == 200, response.text
    matches = [o for o in response.json()["orders"] if o["externalId"] == external_id]
    return matches[0] if matches else None


def wait_for(
    api: httpx.Client, headers: dict[str, str], channel: str, external_id: str, **fields: Any
) -> dict[str, Any]:
    found: dict[str, Any] = {}

    def arrived() -> bool:
        order = find(api, headers, channel, external_id)
        if order is None or any(order.get(k) != v for k, v in fields.items()):
            return False
        found.update(order)
        return True

    eventually_sync(arrived, what=f"{channel} {external_id} with {fields}", timeout_s=API_WAIT_S)
    return found


def new_order(control: httpx.Client, channel: str) -> str:
    response = control.post(f"/{channel}/orders", json={"count": 1})
    assert response.status_code == 200, response.text
    created: list[str] = response.json()["created"]
    return created[0]


@pytest.mark.parametrize("channel", CHANNELS)
def test_fulfilment_fields_travel_from_the_native_format_to_the_api(
    api: httpx.Client, control: httpx.Client, viewer_headers: dict[str, str], channel: str
) -> None:
    external_id = new_order(control, channel)
    placed = wait_for(api, viewer_headers, channel, external_id, status="PLACED")
    native = control.get(f"/{channel}/orders/{external_id}").json()
    assert placed["paymentMethod"] == NATIVE_PAYMENT[channel](native)
    address = placed["shippingAddress"]
    assert address["city"] == NATIVE_CITY[channel](native)
    assert address["line1"]
    assert address["postalCode"]
    assert address["name"]
    assert placed["shipment"] is None

    for status in ("CONFIRMED", "SHIPPED"):
        moved = control.post(f"/{channel}/orders/{external_id}/status", json={"status": status})
        assert moved.status_code == 200, moved.text
    native = control.get(f"/{channel}/orders/{external_id}").json()
    carrier, tracking = NATIVE_TRACKING[channel](native)
    shipped = wait_for(api, viewer_headers, channel, external_id, status="SHIPPED")
    assert shipped["shipment"] == {"carrier": carrier, "trackingNumber": tracking}
    # The channel's return reaches Order Hub too.
    for status in ("DELIVERED", "RETURNED"):
        moved = control.post(f"/{channel}/orders/{external_id}/status", json={"status": status})
        assert moved.status_code == 200, moved.text
    wait_for(api, viewer_headers, channel, external_id, status="RETURNED")


def test_returned_only_after_delivered_and_it_is_final(
    api: httpx.Client,
    control: httpx.Client,
    admin_headers: dict[str, str],
    viewer_headers: dict[str, str],
) -> None:
    external_id = new_order(control, "website")
    order_id = wait_for(api, viewer_headers, "website", external_id)["id"]

    def move(status: str, **extra: Any) -> httpx.Response:
        return api.patch(
            f"/orders/{order_id}/status", json={"status": status, **extra}, headers=admin_headers
        )

    refused = move("RETURNED")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "invalid_transition"
    assert move("CONFIRMED").status_code == 200
    assert move("RETURNED").status_code == 409
    # Shipping asks for carrier and tracking number, and the order shows them.
    shipment = {"carrier": "Blue Dart", "trackingNumber": "BD123456789IN"}
    shipped = move("SHIPPED", shipment=shipment)
    assert shipped.status_code == 200, shipped.text
    assert shipped.json()["order"]["shipment"] == shipment
    assert move("RETURNED").status_code == 409
    assert move("DELIVERED").status_code == 200
    returned = move("RETURNED", note="customer sent it back")
    assert returned.status_code == 200, returned.text
    assert returned.json()["order"]["status"] == "RETURNED"
    for status in ("DELIVERED", "PLACED"):
        assert move(status).status_code == 409
    assert move("CANCELLED", note="too late").status_code == 409
    # A move to CANCELLED needs a reason, to SHIPPED a shipment: a clear 422 before anything.
    assert move("CANCELLED").status_code == 422
    # A shipment with any move but SHIPPED is a clear 422.
    bad = move("DELIVERED", shipment=shipment)
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "validation_error"


def test_a_note_and_a_tag_are_found_by_search_and_filter(
    api: httpx.Client,
    control: httpx.Client,
    admin_headers: dict[str, str],
    viewer_headers: dict[str, str],
) -> None:
    external_id = new_order(control, "blinkit")
    order_id = wait_for(api, viewer_headers, "blinkit", external_id)["id"]
    marker = f"gift-{order_id[-8:]}"

    noted = api.post(
        f"/orders/{order_id}/notes",
        json={"text": f"Customer asked for {marker} packing"},
        headers=admin_headers,
    )
    assert noted.status_code == 201, noted.text
    notes = noted.json()["order"]["notes"]
    assert [n["text"] for n in notes] == [f"Customer asked for {marker} packing"]
    assert notes[0]["writtenBy"]
    assert notes[0]["writtenAt"]

    tag = f"VIP {order_id[-6:]}"
    tagged = api.patch(f"/orders/{order_id}/tags", json={"add": [tag]}, headers=admin_headers)
    assert tagged.status_code == 200, tagged.text
    assert tagged.json()["order"]["tags"] == [tag.lower()]

    def ids(params: dict[str, Any]) -> list[str]:
        response = api.get("/orders", params=params, headers={**viewer_headers, **FRESH})
        assert response.status_code == 200, response.text
        return [o["id"] for o in response.json()["orders"]]

    assert ids({"search": marker.upper()}) == [order_id]
    assert ids({"tag": tag}) == [order_id]
    assert ids({"tag": tag, "channel": "website"}) == []
    assert ids({"search": tag.lower()}) == [order_id]

    # Viewers read, never write; bad input is a clear 422.
    assert (
        api.post(
            f"/orders/{order_id}/notes", json={"text": "x"}, headers=viewer_headers
        ).status_code
        == 403
    )
    blank = api.post(f"/orders/{order_id}/notes", json={"text": "  "}, headers=admin_headers)
    assert blank.status_code == 422
    bad_tag = api.patch(f"/orders/{order_id}/tags", json={"add": ["<b>"]}, headers=admin_headers)
    assert bad_tag.status_code == 422

    untagged = api.patch(f"/orders/{order_id}/tags", json={"remove": [tag]}, headers=admin_headers)
    assert untagged.json()["order"]["tags"] == []
    assert ids({"tag": tag}) == []
    # The note stays, the order keeps its status: notes need no status move.
    detail = api.get(f"/orders/{order_id}", headers={**viewer_headers, **FRESH}).json()["order"]
    assert detail["status"] == "PLACED"
    assert len(detail["notes"]) == 1


def test_the_customer_view_lists_the_customers_other_orders(
    api: httpx.Client,
    control: httpx.Client,
    viewer_headers: dict[str, str],
) -> None:
    external_id = new_order(control, "website")
    order = wait_for(api, viewer_headers, "website", external_id)
    response = api.get(f"/orders/{order['id']}/customer-orders", headers=viewer_headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["customer"] == order["customer"]
    assert order["id"] not in [o["id"] for o in body["orders"]]
    for other in body["orders"]:
        same_phone = other["customer"]["phone"] == order["customer"]["phone"]
        email = order["customer"]["email"]
        same_email = email is not None and (other["customer"]["email"] or "").lower() == email
        assert same_phone or same_email
    assert api.get("/orders/ord_nope/customer-orders", headers=viewer_headers).status_code == 404


def _ingested(channel: str, external_id: str, phone: str | None) -> dict[str, Any]:
    customer: dict[str, Any] = {"name": "Dead Letter Test", "email": None}
    if phone is not None:
        customer["phone"] = phone
    return {
        "eventId": "6f0c0f57-8a3e-4b0e-9e55-6c1f0a7b0c01",
        "eventType": "order.ingested",
        "schemaVersion": 1,
        "occurredAt": "2026-11-30T10:00:00.000Z",
        "correlationId": "dead-letter-test",
        "order": order_fields(channel=channel, external_id=external_id, customer=customer),
    }


async def test_a_dead_letter_is_listed_replayed_after_a_fix_and_stored(
    gateway_url: str,
    kafka_options: dict[str, Any],
    topics: Topics,
    admin_headers: dict[str, str],
    viewer_headers: dict[str, str],
) -> None:
    external_id = f"DLQ-{uuid.uuid4().hex[:10]}"
    broken = _ingested("website", external_id, phone=None)  # no phone: can never be stored
    producer = AIOKafkaProducer(**kafka_options)
    await producer.start()
    try:
        await producer.send_and_wait(
            topics.ingested, json.dumps(broken).encode(), key=f"website:{external_id}".encode()
        )
    finally:
        await producer.stop()

    async with httpx.AsyncClient(base_url=f"{gateway_url}/api", timeout=30) as api:
        letter: dict[str, Any] = {}

        async def listed() -> bool:
            response = await api.get("/dead-letters", headers=admin_headers)
            assert response.status_code == 200, response.text
            for item in response.json()["deadLetters"]:
                if external_id in item["payload"]:
                    letter.update(item)
                    return True
            return False

        await eventually(listed, what="the dead letter on the admin list", timeout_s=API_WAIT_S)
        assert letter["state"] == "pending"
        assert "phone" in letter["error"]
        assert letter["key"] == f"website:{external_id}"
        assert (await api.get("/dead-letters", headers=viewer_headers)).status_code == 403

        # As it is, it would fail again: refused, nothing sent.
        again = await api.post(
            f"/dead-letters/{letter['id']}/replay", json={}, headers=admin_headers
        )
        assert again.status_code == 422
        assert again.json()["error"]["code"] == "dead_letter_invalid"

        fixed = _ingested("website", external_id, phone="+919812345678")
        replayed = await api.post(
            f"/dead-letters/{letter['id']}/replay",
            json={"payload": json.dumps(fixed)},
            headers=admin_headers,
        )
        assert replayed.status_code == 200, replayed.text
        assert replayed.json()["deadLetter"]["state"] == "replayed"
        twice = await api.post(
            f"/dead-letters/{letter['id']}/replay", json={}, headers=admin_headers
        )
        assert twice.status_code == 409

        async def stored() -> bool:
            response = await api.get(
                "/orders",
                params={"search": external_id},
                headers={**viewer_headers, **FRESH},
            )
            orders = response.json()["orders"]
            return [o["customer"]["phone"] for o in orders] == ["+919812345678"]

        await eventually(stored, what="the replayed order to be stored", timeout_s=API_WAIT_S)
        pending = await api.get("/dead-letters", headers=admin_headers)
        assert letter["id"] not in [d["id"] for d in pending.json()["deadLetters"]]
        done = await api.get("/dead-letters", params={"state": "replayed"}, headers=admin_headers)
        assert letter["id"] in [d["id"] for d in done.json()["deadLetters"]]


async def test_a_dead_letter_can_be_discarded_with_a_reason(
    gateway_url: str,
    kafka_options: dict[str, Any],
    topics: Topics,
    admin_headers: dict[str, str],
) -> None:
    external_id = f"DLQ-{uuid.uuid4().hex[:10]}"
    producer = AIOKafkaProducer(**kafka_options)
    await producer.start()
    try:
        await producer.send_and_wait(topics.ingested, f"not json {external_id}".encode())
    finally:
        await producer.stop()
    async with httpx.AsyncClient(base_url=f"{gateway_url}/api", timeout=30) as api:
        found: list[str] = []

        async def listed() -> bool:
            response = await api.get("/dead-letters", headers=admin_headers)
            found[:] = [
                d["id"] for d in response.json()["deadLetters"] if external_id in d["payload"]
            ]
            return bool(found)

        await eventually(listed, what="the dead letter on the admin list", timeout_s=API_WAIT_S)
        no_reason = await api.post(
            f"/dead-letters/{found[0]}/discard", json={}, headers=admin_headers
        )
        assert no_reason.status_code == 422
        discarded = await api.post(
            f"/dead-letters/{found[0]}/discard",
            json={"reason": "test garbage"},
            headers=admin_headers,
        )
        assert discarded.status_code == 200, discarded.text
        assert discarded.json()["deadLetter"]["reason"] == "test garbage"
        assert (
            await api.post(f"/dead-letters/{found[0]}/replay", json={}, headers=admin_headers)
        ).status_code == 409
        assert (
            await api.get("/dead-letters/0-999999999", headers=admin_headers)
        ).status_code == 404


def _order(api: httpx.Client, headers: dict[str, str], order_id: str) -> dict[str, Any]:
    response = api.get(f"/orders/{order_id}", headers={**headers, **FRESH})
    assert response.status_code == 200, response.text
    order: dict[str, Any] = response.json()["order"]
    return order


def test_a_status_move_reaches_the_channel_through_an_outage_and_is_applied_once(
    api: httpx.Client,
    control: httpx.Client,
    admin_headers: dict[str, str],
    viewer_headers: dict[str, str],
) -> None:
    external_id = new_order(control, "amazon")
    order_id = wait_for(api, viewer_headers, "amazon", external_id)["id"]
    outage = {"down": True, "errorRate": 0, "latencyMs": 0}
    assert control.put("/amazon/faults", json=outage).status_code == 200
    try:
        moved = api.patch(
            f"/orders/{order_id}/status", json={"status": "CONFIRMED"}, headers=admin_headers
        )
        assert moved.status_code == 200, moved.text
        write_back = moved.json()["order"]["writeBack"]
        assert write_back["state"] == "pending"
        assert write_back["status"] == "CONFIRMED"

        # The channel is down: its order has not moved, and Order Hub says it waits.
        def tried_and_failed() -> bool:
            return control.get(f"/amazon/orders/{external_id}").json()["OrderStatus"] == "Pending"

        eventually_sync(tried_and_failed, what="the channel to still hold the order unmoved")
        assert _order(api, viewer_headers, order_id)["writeBack"]["state"] == "pending"
    finally:
        healthy = {"down": False, "errorRate": 0, "latencyMs": 0}
        assert control.put("/amazon/faults", json=healthy).status_code == 200

    def acknowledged() -> bool:
        return _order(api, viewer_headers, order_id)["writeBack"]["state"] == "acknowledged"

    eventually_sync(acknowledged, what="the channel to acknowledge the move", timeout_s=API_WAIT_S)
    native = control.get(f"/amazon/orders/{external_id}").json()
    assert (native["OrderStatus"], native["EasyShipShipmentStatus"]) == (
        "Unshipped",
        "PendingPickUp",
    )
    applied = control.get(f"/amazon/orders/{external_id}/write-backs").json()
    # Amazon takes no idempotency token: updateShipmentStatus sets a state, so the simulator
    # keys a repeat by what it sets.
    key = f"updateShipmentStatus:{external_id}:ReadyForPickup"
    assert applied == [{"idempotencyKey": key, "status": "CONFIRMED"}]

    # Shipping with tracking reaches the channel in its own shape too.
    shipment = {"carrier": "Blue Dart", "trackingNumber": f"BD{order_id[-9:]}"}
    shipped = api.patch(
        f"/orders/{order_id}/status",
        json={"status": "SHIPPED", "shipment": shipment},
        headers=admin_headers,
    )
    assert shipped.status_code == 200, shipped.text

    def shipped_at_the_channel() -> bool:
        native = control.get(f"/amazon/orders/{external_id}").json()
        return native["EasyShipShipmentStatus"] == "PickedUp"

    eventually_sync(
        shipped_at_the_channel, what="the shipment at the channel", timeout_s=API_WAIT_S
    )
    native = control.get(f"/amazon/orders/{external_id}").json()
    assert native["EasyShipPackage"] == {
        "CarrierName": "Blue Dart",
        "TrackingId": shipment["trackingNumber"],
    }
    eventually_sync(
        lambda: _order(api, viewer_headers, order_id)["writeBack"]["state"] == "acknowledged",
        what="the shipment acknowledged",
        timeout_s=API_WAIT_S,
    )
    assert _order(api, viewer_headers, order_id)["shipment"] == shipment


def test_a_bulk_move_is_written_back_for_each_order_and_a_returned_order_stays_final(
    api: httpx.Client,
    control: httpx.Client,
    admin_headers: dict[str, str],
    viewer_headers: dict[str, str],
) -> None:
    external_ids = [new_order(control, "website") for _ in range(3)]
    orders = [wait_for(api, viewer_headers, "website", e) for e in external_ids]
    placed, returned = [o["id"] for o in orders[:2]], orders[2]["id"]
    shipment = {"carrier": "Delhivery", "trackingNumber": "DL-42"}
    for status in ("CONFIRMED", "SHIPPED", "DELIVERED", "RETURNED"):
        body: dict[str, Any] = {"status": status}
        if status == "SHIPPED":
            body["shipment"] = shipment
        moved = api.patch(f"/orders/{returned}/status", json=body, headers=admin_headers)
        assert moved.status_code == 200, moved.text

    response = api.post(
        "/bulk-moves",
        json={"status": "CONFIRMED", "orderIds": [*placed, returned]},
        headers=admin_headers,
    )
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    assert sorted(result["moved"]) == sorted(placed)
    assert [(r["orderId"], r["code"]) for r in result["refused"]] == [(returned, "already_final")]

    # Each moved order goes to its channel as a single move does, once (the website is Shopify:
    # its mutations take no idempotency key; the write-back reads the order first instead).
    for order_id, external_id in zip(placed, external_ids[:2], strict=True):

        def acknowledged(order_id: str = order_id) -> bool:
            return _order(api, viewer_headers, order_id)["writeBack"]["state"] == "acknowledged"

        eventually_sync(
            acknowledged,
            what=f"the channel to acknowledge the bulk move of {order_id}",
            timeout_s=API_WAIT_S,
        )
        write_back = _order(api, viewer_headers, order_id)["writeBack"]
        assert write_back["status"] == "CONFIRMED"
        applied = control.get(f"/website/orders/{external_id}/write-backs").json()
        assert [a["status"] for a in applied] == ["CONFIRMED"]
    assert _order(api, viewer_headers, returned)["status"] == "RETURNED"


def publish(kafka_options: dict[str, Any], topic: str, value: bytes, key: bytes | None) -> None:
    async def send() -> None:
        producer = AIOKafkaProducer(**kafka_options)
        await producer.start()
        try:
            await producer.send_and_wait(topic, value, key=key)
        finally:
            await producer.stop()

    asyncio.run(send())


def test_a_move_the_channel_rejects_is_visible_on_the_order(
    api: httpx.Client,
    kafka_options: dict[str, Any],
    topics: Topics,
    admin_headers: dict[str, str],
    viewer_headers: dict[str, str],
) -> None:
    # An order the channel does not know (a copy of it reached Order Hub, the channel lost it).
    external_id = f"GONE-{uuid.uuid4().hex[:10]}"
    event = _ingested("blinkit", external_id, phone="+919812345670")
    event["eventId"] = str(uuid.uuid4())
    key = f"blinkit:{external_id}".encode()
    publish(kafka_options, topics.ingested, json.dumps(event).encode(), key)
    order_id = wait_for(api, viewer_headers, "blinkit", external_id)["id"]
    moved = api.patch(
        f"/orders/{order_id}/status", json={"status": "CONFIRMED"}, headers=admin_headers
    )
    assert moved.status_code == 200, moved.text

    def rejected() -> bool:
        return _order(api, viewer_headers, order_id)["writeBack"]["state"] == "rejected"

    eventually_sync(rejected, what="the channel's rejection on the order", timeout_s=API_WAIT_S)
    write_back = _order(api, viewer_headers, order_id)["writeBack"]
    assert "404" in write_back["error"]
    # Order Hub keeps the admin's move; the disagreement is what the order shows.
    assert _order(api, viewer_headers, order_id)["status"] == "CONFIRMED"


def test_a_restarted_channel_still_has_the_orders_created_since_it_started(
    control: httpx.Client, stopped_service: Callable[[str], Any], wait_ready: Callable[[str], None]
) -> None:
    external_id = new_order(control, "website")
    count = control.get("/website/orders/count").json()["count"]
    native = control.get(f"/website/orders/{external_id}").json()
    with stopped_service("mock_channels"):
        pass
    wait_ready("mock_channels")
    assert control.get("/website/orders/count").json()["count"] == count
    assert control.get(f"/website/orders/{external_id}").json() == native
