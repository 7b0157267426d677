"""Blinkit orders -> canonical orders: epoch milliseconds, integer paise, its own status names
(created -> PLACED, accepted -> CONFIRMED, dispatched -> SHIPPED, delivered -> DELIVERED,
cancelled -> CANCELLED)."""

from __future__ import annotations

from ingest.normalizers.common import NativeOrder, epoch_ms_time, guarded, indian_phone, paise, text
from orderhub_common.events import Channel, ChannelOrder, Customer, OrderItem, OrderStatus

_STATUS = {
    "created": OrderStatus.PLACED,
    "accepted": OrderStatus.CONFIRMED,
    "dispatched": OrderStatus.SHIPPED,
    "delivered": OrderStatus.DELIVERED,
    "cancelled": OrderStatus.CANCELLED,
}


def canonical_status(native: NativeOrder) -> OrderStatus:
    status = native["status"]
    if status not in _STATUS:
        raise ValueError(f"unsupported status {status!r}")
    return _STATUS[status]


@guarded(Channel.BLINKIT, "order_id")
def normalize(native: NativeOrder) -> ChannelOrder:
    customer = native["customer"]
    return ChannelOrder(
        channel=Channel.BLINKIT,
        external_id=text(native["order_id"]),
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
    )
