"""The fields a channel owns reach the order whole: copied into a new order, refreshed from a
newer copy, and the fulfilment a copy does not carry kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from orderhub_common.events import (
    CHANNEL_OWNED_FIELDS,
    ChannelOrder,
    Customer,
    Order,
    OrderItem,
    OrderStatus,
    PaymentMethod,
    Shipment,
    ShippingAddress,
)
from orderhub_common.testing import channel_order
from orders.changes import new_order, order_id_for
from orders.repository import refresh_from_channel

pytestmark = pytest.mark.unit

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def full_copy(**changes: object) -> ChannelOrder:
    copy = channel_order(
        "BLK-77",
        channel="blinkit",
        customer=Customer(name="Anita Rao", phone="+91 90000 11111", email="anita@example.com"),
        items=[OrderItem(sku="RING-1", name="Ring", qty=2, price=100)],
        total=200,
        status=OrderStatus.SHIPPED,
        placed_at=T0,
        updated_at=T0 + timedelta(hours=1),
        shipping_address=ShippingAddress(name="Anita Rao", city="Pune", postal_code="411001"),
        payment_method=PaymentMethod.CASH_ON_DELIVERY,
        shipment=Shipment(carrier="Blue Dart", tracking_number="BD1"),
    )
    return copy.model_copy(update=changes)


def owned(model: ChannelOrder | Order) -> dict[str, object]:
    return model.model_dump(mode="json", include=set(CHANNEL_OWNED_FIELDS))


def test_the_channel_owned_fields_are_those_both_shapes_carry() -> None:
    shared = set(ChannelOrder.model_fields) & set(Order.model_fields)
    # status and updatedAt are in both but not the channel's to set: the status moves through
    # the state machine, and the order's updatedAt is Order Hub's own.
    assert shared - CHANNEL_OWNED_FIELDS == {"status", "updated_at"}


def test_a_new_order_carries_every_field_of_the_channels_copy() -> None:
    incoming = full_copy()
    created = new_order(incoming)

    order = created.order
    assert owned(order) == owned(incoming)
    assert order.id == order_id_for("blinkit", "BLK-77")
    assert order.status is OrderStatus.SHIPPED
    assert [entry.status for entry in order.status_history] == [OrderStatus.SHIPPED]
    assert created.channel_updated_at == incoming.updated_at
    assert created.events[0].model_dump(mode="json")["order"] == order.model_dump(mode="json")


def test_a_newer_copy_refreshes_every_field_the_channel_owns() -> None:
    order = new_order(full_copy()).order
    newer = full_copy(
        customer=Customer(name="Anita R.", phone="+91 90000 22222"),
        items=[OrderItem(sku="RING-2", name="Ring, gold", qty=1, price=150)],
        total=150,
        placed_at=T0 - timedelta(minutes=1),
        shipping_address=ShippingAddress(name="Anita R.", city="Mumbai"),
        payment_method=PaymentMethod.PREPAID,
        shipment=Shipment(carrier="Delhivery", tracking_number="DL9"),
    )

    result = refresh_from_channel(order, newer)

    assert owned(result) == owned(newer)
    # What Order Hub owns stays.
    assert (result.id, result.status, result.status_history, result.created_at) == (
        order.id,
        order.status,
        order.status_history,
        order.created_at,
    )


def test_fulfilment_a_newer_copy_does_not_carry_is_kept() -> None:
    order = new_order(full_copy()).order
    older_feed = full_copy(shipping_address=None, payment_method=None, shipment=None, total=210)

    result = refresh_from_channel(order, older_feed)

    assert result.total == 210
    assert result.shipping_address == order.shipping_address
    assert result.payment_method is PaymentMethod.CASH_ON_DELIVERY
    assert result.shipment == order.shipment
