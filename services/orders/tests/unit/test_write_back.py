"""Write-back, pure parts: each channel's native request, reading its refusals, and recording
an answer only for the write-back the order still waits for."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from orderhub_common.events import (
    Channel,
    Order,
    OrderStatus,
    Shipment,
    StatusHistoryEntry,
    StatusSource,
    WriteBackState,
)
from orderhub_common.testing import order_fields
from orders.amazon_write_back import confirm_shipment_body, update_shipment_status_body
from orders.changes import admin_move, job_event_id, tags_change, write_back_answer
from orders.repository import StoredOrder, WriteBackRequest
from orders.write_back import native_update, rejection_reason

pytestmark = pytest.mark.unit

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
SHIPMENT = Shipment(carrier="Blue Dart", tracking_number="BD1")


def stored(
    status: OrderStatus = OrderStatus.PLACED, channel: Channel = Channel.AMAZON
) -> StoredOrder:
    order = Order.model_validate(
        order_fields(
            id="ord_1",
            external_id="402-1234567-1234567",
            channel=channel,
            status=status,
            status_history=[
                StatusHistoryEntry(status=status, changed_at=T0, source=StatusSource.CHANNEL)
            ],
            placed_at=T0,
            created_at=T0,
            updated_at=T0,
        )
    )
    return StoredOrder(order, 1, T0)


def request(channel: Channel, status: OrderStatus, shipment: Shipment | None) -> WriteBackRequest:
    return WriteBackRequest(
        key="evt-1",
        order_id="ord_1",
        channel=channel.value,
        external_id="X1",
        status=status,
        shipment=shipment,
    )


def test_each_channel_gets_its_own_request_with_the_idempotency_key() -> None:
    with pytest.raises(ValueError, match="Shopify's mutations"):  # shopify_write_back.py
        native_update(request(Channel.WEBSITE, OrderStatus.SHIPPED, SHIPMENT))
    with pytest.raises(ValueError, match="amazon_write_back"):
        native_update(request(Channel.AMAZON, OrderStatus.SHIPPED, SHIPMENT))
    blinkit = native_update(request(Channel.BLINKIT, OrderStatus.SHIPPED, SHIPMENT))
    assert (blinkit.method, blinkit.headers) == ("PATCH", {"X-Idempotency-Key": "evt-1"})
    assert blinkit.body == {"status": "dispatched", "rider": {"partner": "Blue Dart", "awb": "BD1"}}


def test_amazon_gets_its_own_operations_bodies() -> None:
    confirmed = update_shipment_status_body(
        request(Channel.AMAZON, OrderStatus.CONFIRMED, None), "M"
    )
    assert confirmed == {"marketplaceId": "M", "shipmentStatus": "ReadyForPickup"}
    items = [{"OrderItemId": "I1", "QuantityOrdered": 2}]
    shipped = confirm_shipment_body(
        request(Channel.AMAZON, OrderStatus.SHIPPED, SHIPMENT), "M", items
    )
    package = shipped["packageDetail"]
    assert (package["carrierCode"], package["carrierName"], package["trackingNumber"]) == (
        "Other",
        "Blue Dart",
        "BD1",
    )
    assert package["orderItems"] == [{"orderItemId": "I1", "quantity": 2}]
    assert package["packageReferenceId"] == "1", "one package per order: a repeat is the same one"


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (
            422,
            {"errors": {"status": ["cannot become paid"]}},
            "HTTP 422: status cannot become paid",
        ),
        (400, {"errors": [{"code": "InvalidInput", "message": "no"}]}, "HTTP 400: no"),
        (409, {"error": {"code": "invalid_status", "message": "nope"}}, "HTTP 409: nope"),
    ],
)
def test_a_refusal_reads_as_the_channels_own_reason(
    status: int, body: dict[str, object], reason: str
) -> None:
    assert rejection_reason(httpx.Response(status, json=body)) == reason


def test_an_admin_move_asks_for_a_write_back_keyed_by_its_event() -> None:
    change = admin_move(
        stored(OrderStatus.CONFIRMED),
        OrderStatus.SHIPPED,
        changed_by="u1",
        note=None,
        shipment=SHIPMENT,
    )
    assert change.write_back is not None
    assert change.write_back.key == str(change.events[0].event_id)
    assert change.write_back.shipment == SHIPMENT
    assert change.result.shipment == SHIPMENT
    assert change.result.write_back is not None
    assert change.result.write_back.state == WriteBackState.PENDING


def test_a_bulk_jobs_move_is_written_back_under_the_jobs_event_id() -> None:
    event_id = job_event_id("job_1", "ord_1", 1)
    change = admin_move(
        stored(), OrderStatus.CONFIRMED, changed_by="u1", note=None, event_id=event_id
    )
    assert change.events[0].event_id == event_id
    assert change.write_back is not None
    assert change.write_back.key == str(event_id)
    assert change.result.write_back is not None
    assert change.result.write_back.idempotency_key == str(event_id)
    # The order then shows the job's move, which is what the write-back relay waits for.
    assert str(event_id) in change.applied().announced


def test_an_answer_is_recorded_only_for_the_write_back_the_order_waits_for() -> None:
    move = admin_move(stored(), OrderStatus.CONFIRMED, changed_by="u1", note=None)
    after = move.applied()
    key = move.result.write_back.idempotency_key if move.result.write_back else ""
    assert write_back_answer(after, "another-key", WriteBackState.ACKNOWLEDGED, attempts=1) is None
    answered = write_back_answer(after, key, WriteBackState.REJECTED, attempts=2, error="HTTP 404")
    assert answered is not None
    assert answered.result.write_back is not None
    assert answered.result.write_back.state == WriteBackState.REJECTED
    assert answered.result.write_back.error == "HTTP 404"
    assert answered.events[0].event_type == "order.write_back_answered"
    # Recorded once: a second answer for the same key changes nothing.
    assert (
        write_back_answer(answered.applied(), key, WriteBackState.ACKNOWLEDGED, attempts=3) is None
    )


def test_tags_are_normalized_and_an_unchanged_set_is_no_change() -> None:
    change = tags_change(stored(), ["  Gift   Wrap ", "VIP"], [], changed_by="u1")
    assert change is not None
    assert change.result.tags == ["gift wrap", "vip"]
    assert tags_change(change.applied(), ["vip"], [], changed_by="u1") is None
    removed = tags_change(change.applied(), [], ["GIFT WRAP"], changed_by="u1")
    assert removed is not None
    assert removed.result.tags == ["vip"]
