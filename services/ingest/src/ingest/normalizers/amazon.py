"""SP-API-Orders-like orders -> canonical orders.

``OrderStatus``: Pending and PendingAvailability -> PLACED; Unshipped -> CONFIRMED;
PartiallyShipped, Shipped and InvoiceUnconfirmed -> SHIPPED, or DELIVERED when Easy Ship reports
``Delivered``; Canceled -> CANCELLED. Unfulfillable has no canonical meaning and is rejected.
Items are read inline (``OrderItems``); ``ItemPrice`` is the line total, so the unit price is
it divided by ``QuantityOrdered``.
"""

from __future__ import annotations

from typing import Any

from ingest.normalizers.common import NativeOrder, guarded, indian_phone, iso_time, money, text
from orderhub_common.events import Channel, ChannelOrder, Customer, OrderItem, OrderStatus

_STATUS = {
    "Pending": OrderStatus.PLACED,
    "PendingAvailability": OrderStatus.PLACED,
    "Unshipped": OrderStatus.CONFIRMED,
    "PartiallyShipped": OrderStatus.SHIPPED,
    "Shipped": OrderStatus.SHIPPED,
    "InvoiceUnconfirmed": OrderStatus.SHIPPED,
    "Canceled": OrderStatus.CANCELLED,
}


def canonical_status(native: NativeOrder) -> OrderStatus:
    amazon_status = native["OrderStatus"]
    if amazon_status not in _STATUS:
        raise ValueError(f"unsupported OrderStatus {amazon_status!r}")
    status = _STATUS[amazon_status]
    if status == OrderStatus.SHIPPED and native.get("EasyShipShipmentStatus") == "Delivered":
        return OrderStatus.DELIVERED
    return status


def _item(item: dict[str, Any]) -> OrderItem:
    qty = item["QuantityOrdered"]
    if not isinstance(qty, int) or qty < 1:
        raise ValueError(f"QuantityOrdered must be a positive integer, got {qty!r}")
    return OrderItem(
        sku=text(item["SellerSKU"]),
        name=text(item["Title"]),
        qty=qty,
        price=money(money(item["ItemPrice"]["Amount"]) / qty),
    )


@guarded(Channel.AMAZON, "AmazonOrderId")
def normalize(native: NativeOrder) -> ChannelOrder:
    buyer: dict[str, Any] = native.get("BuyerInfo") or {}
    address: dict[str, Any] = native.get("ShippingAddress") or {}
    total = native["OrderTotal"]
    return ChannelOrder(
        channel=Channel.AMAZON,
        external_id=text(native["AmazonOrderId"]),
        customer=Customer(
            name=text(buyer.get("BuyerName") or address.get("Name")),
            phone=indian_phone(address["Phone"]),
            email=buyer.get("BuyerEmail"),
        ),
        items=[_item(item) for item in native["OrderItems"]],
        total=money(total["Amount"]),
        currency=total["CurrencyCode"],
        status=canonical_status(native),
        placed_at=iso_time(native["PurchaseDate"]),
        updated_at=iso_time(native["LastUpdateDate"]),
    )
