"""SP-API-Orders-like orders -> canonical orders.

``OrderStatus``: Pending and PendingAvailability -> PLACED; Unshipped -> CONFIRMED;
PartiallyShipped, Shipped and InvoiceUnconfirmed -> SHIPPED, or DELIVERED when Easy Ship reports
``Delivered`` or RETURNED when it reports ``ReturnedToSeller``; Canceled -> CANCELLED.
Unfulfillable has no canonical meaning and is rejected.
Items are read inline (``OrderItems``, which the connector fills from ``getOrderItems``);
``ItemPrice`` is the line total, so the unit price is it divided by ``QuantityOrdered``. The
total is ``OrderTotal``, or (Amazon leaves it out of pending orders) the items' sum.
Fulfilment: ``ShippingAddress``, ``PaymentMethod`` (``COD`` is cash on delivery, anything else
prepaid) and the ``EasyShipPackage``'s carrier and tracking id.

Amazon shares the buyer's name, phone and full address only with a restricted data token, and
not at all for some orders (pending ones, or an application without the restricted role): such
an order still arrives, its customer named ``WITHHELD_NAME`` with phone ``WITHHELD_PHONE``.
"""

from __future__ import annotations

from typing import Any

from ingest.normalizers.common import (
    NativeOrder,
    guarded,
    identifier,
    indian_phone,
    iso_time,
    money,
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

WITHHELD_NAME = "Amazon buyer"
WITHHELD_PHONE = "withheld by Amazon"
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
    easy_ship = native.get("EasyShipShipmentStatus")
    if status == OrderStatus.SHIPPED and easy_ship == "Delivered":
        return OrderStatus.DELIVERED
    if status == OrderStatus.SHIPPED and easy_ship == "ReturnedToSeller":
        return OrderStatus.RETURNED
    return status


def shipping_address(address: dict[str, Any], fallback_name: str) -> ShippingAddress | None:
    if not address.get("City"):
        return None
    return ShippingAddress(
        name=text(address.get("Name") or fallback_name),
        phone=address.get("Phone"),
        line1=address.get("AddressLine1"),
        line2=address.get("AddressLine2"),
        city=text(address["City"]),
        state=address.get("StateOrRegion"),
        postal_code=address.get("PostalCode"),
        country=address.get("CountryCode") or "IN",
    )


def payment_method(native: NativeOrder) -> PaymentMethod | None:
    method = native.get("PaymentMethod")
    if method is None:
        return None
    return PaymentMethod.CASH_ON_DELIVERY if method == "COD" else PaymentMethod.PREPAID


def shipment(native: NativeOrder) -> Shipment | None:
    package: dict[str, Any] = native.get("EasyShipPackage") or {}
    if package.get("CarrierName") and package.get("TrackingId"):
        return Shipment(
            carrier=text(package["CarrierName"]), tracking_number=text(package["TrackingId"])
        )
    return None


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
    name = text(buyer.get("BuyerName") or address.get("Name") or WITHHELD_NAME)
    native_items = native["OrderItems"]
    if native.get("OrderTotal"):
        total, currency = (
            money(native["OrderTotal"]["Amount"]),
            native["OrderTotal"]["CurrencyCode"],
        )
    else:
        total = money(sum(money(item["ItemPrice"]["Amount"]) for item in native_items))
        currency = native_items[0]["ItemPrice"]["CurrencyCode"] if native_items else "INR"
    return ChannelOrder(
        channel=Channel.AMAZON,
        external_id=identifier(native["AmazonOrderId"]),
        customer=Customer(
            name=name,
            phone=indian_phone(address["Phone"]) if "Phone" in address else WITHHELD_PHONE,
            email=buyer.get("BuyerEmail"),
        ),
        items=[_item(item) for item in native_items],
        total=total,
        currency=currency,
        status=canonical_status(native),
        placed_at=iso_time(native["PurchaseDate"]),
        updated_at=iso_time(native["LastUpdateDate"]),
        shipping_address=shipping_address(address, name),
        payment_method=payment_method(native),
        shipment=shipment(native),
    )
