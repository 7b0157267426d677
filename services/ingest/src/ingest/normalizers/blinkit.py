"""Blinkit orders -> canonical orders: epoch milliseconds, integer paise, its own status names
(created -> PLACED, accepted -> CONFIRMED, dispatched -> SHIPPED, delivered -> DELIVERED,
cancelled -> CANCELLED, returned -> RETURNED). Fulfilment: ``delivery_address``,
``payment_mode`` (``COD`` or ``PREPAID``) and the ``rider``'s partner and AWB number."""

from __future__ import annotations

from typing import Any

from ingest.normalizers.common import (
    NativeOrder,
    epoch_ms_time,
    guarded,
    identifier,
    indian_phone,
    paise,
    text,
)
from orderhub_common.events import (
    Channel,
    ChannelOrder,
    Customer,
    OrderItem,
    OrderStatus,
    PaymentMethod,
    Shipment,
    ShippingAddress,
)

_STATUS = {
    "created": OrderStatus.PLACED,
    "accepted": OrderStatus.CONFIRMED,
    "dispatched": OrderStatus.SHIPPED,
    "delivered": OrderStatus.DELIVERED,
    "cancelled": OrderStatus.CANCELLED,
    "returned": OrderStatus.RETURNED,
}
_PAYMENT = {"COD": PaymentMethod.CASH_ON_DELIVERY, "PREPAID": PaymentMethod.PREPAID}


def canonical_status(native: NativeOrder) -> OrderStatus:
    status = native["status"]
    if status not in _STATUS:
        raise ValueError(f"unsupported status {status!r}")
    return _STATUS[status]


def shipping_address(address: dict[str, Any], fallback_name: str) -> ShippingAddress | None:
    if not address.get("city"):
        return None
    return ShippingAddress(
        name=text(address.get("receiver_name") or fallback_name),
        line1=address.get("address_line"),
        city=text(address["city"]),
        state=address.get("state"),
        postal_code=address.get("pincode"),
    )


def payment_method(native: NativeOrder) -> PaymentMethod | None:
    mode = native.get("payment_mode")
    if mode is None:
        return None
    if mode not in _PAYMENT:
        raise ValueError(f"unsupported payment_mode {mode!r}")
    return _PAYMENT[mode]


def shipment(native: NativeOrder) -> Shipment | None:
    rider: dict[str, Any] = native.get("rider") or {}
    if rider.get("partner") and rider.get("awb"):
        return Shipment(carrier=text(rider["partner"]), tracking_number=text(rider["awb"]))
    return None


@guarded(Channel.BLINKIT, "order_id")
def normalize(native: NativeOrder) -> ChannelOrder:
    customer = native["customer"]
    return ChannelOrder(
        channel=Channel.BLINKIT,
        external_id=identifier(native["order_id"]),
        customer=Customer(
            name=text(customer["name"]),
            phone=indian_phone(customer["mobile"]),
            email=customer.get("email"),
        ),
        items=[
            OrderItem(
                sku=text(item["item_code"]),
                name=text(item["name"]),
                qty=item["quantity"],
                price=paise(item["unit_price_paise"]),
            )
            for item in native["items"]
        ],
        total=paise(native["bill"]["total_paise"]),
        currency=native.get("currency", "INR"),
        status=canonical_status(native),
        placed_at=epoch_ms_time(native["created_at_ms"]),
        updated_at=epoch_ms_time(native["updated_at_ms"]),
        shipping_address=shipping_address(native.get("delivery_address") or {}, customer["name"]),
        payment_method=payment_method(native),
        shipment=shipment(native),
    )
