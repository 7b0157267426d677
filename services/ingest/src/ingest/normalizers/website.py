"""Shopify-like Admin REST orders -> canonical orders.

Shopify spreads status over several fields; the canonical status is read in this order:
``cancelled_at`` set -> CANCELLED; fulfilled with a delivered shipment -> DELIVERED; fulfilled
(or partially) -> SHIPPED; paid or authorized -> CONFIRMED; otherwise PLACED.
"""

from __future__ import annotations

from typing import Any

from ingest.normalizers.common import NativeOrder, guarded, indian_phone, iso_time, money, text
from orderhub_common.events import Channel, ChannelOrder, Customer, OrderItem, OrderStatus

_CONFIRMED_FINANCIAL = {"paid", "authorized", "partially_paid", "partially_refunded"}
_SHIPPED_FULFILLMENT = {"fulfilled", "partial"}


def canonical_status(native: NativeOrder) -> OrderStatus:
    if native.get("cancelled_at"):
        return OrderStatus.CANCELLED
    if native.get("fulfillment_status") in _SHIPPED_FULFILLMENT:
        shipments = {f.get("shipment_status") for f in native.get("fulfillments") or []}
        return OrderStatus.DELIVERED if "delivered" in shipments else OrderStatus.SHIPPED
    if native.get("financial_status") in _CONFIRMED_FINANCIAL:
        return OrderStatus.CONFIRMED
    return OrderStatus.PLACED


@guarded(Channel.WEBSITE, "id")
def normalize(native: NativeOrder) -> ChannelOrder:
    customer: dict[str, Any] = native.get("customer") or {}
    address: dict[str, Any] = native.get("shipping_address") or {}
    name = " ".join(
        part for part in (customer.get("first_name"), customer.get("last_name")) if part
    ) or address.get("name")
    phone = native.get("phone") or customer.get("phone") or address.get("phone")
    return ChannelOrder(
        channel=Channel.WEBSITE,
        external_id=str(native["id"]),
        customer=Customer(
            name=text(name),
            phone=indian_phone(phone),
            email=native.get("email") or customer.get("email"),
        ),
        items=[
            OrderItem(
                sku=text(item["sku"]),
                name=text(item["title"]),
                qty=item["quantity"],
                price=money(item["price"]),
            )
            for item in native["line_items"]
        ],
        total=money(native["total_price"]),
        currency=native["currency"],
        status=canonical_status(native),
        placed_at=iso_time(native["created_at"]),
        updated_at=iso_time(native["updated_at"]),
    )
