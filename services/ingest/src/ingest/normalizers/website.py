"""Shopify-like Admin REST orders -> canonical orders.

Shopify spreads status over several fields; the canonical status is read in this order:
``cancelled_at`` set -> CANCELLED; a closed return -> RETURNED; fulfilled with a delivered
shipment -> DELIVERED; fulfilled (or partially) -> SHIPPED; paid or authorized -> CONFIRMED;
otherwise PLACED.

Fulfilment: ``shipping_address``; the payment method from ``payment_gateway_names`` (a
cash-on-delivery gateway, else prepaid); carrier and tracking number from the first fulfilment
that has them.
"""

from __future__ import annotations

from typing import Any

from ingest.normalizers.common import NativeOrder, guarded, indian_phone, iso_time, money, text
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

_CONFIRMED_FINANCIAL = {"paid", "authorized", "partially_paid", "partially_refunded"}
_SHIPPED_FULFILLMENT = {"fulfilled", "partial"}


def canonical_status(native: NativeOrder) -> OrderStatus:
    if native.get("cancelled_at"):
        return OrderStatus.CANCELLED
    if any(r.get("status") == "closed" for r in native.get("returns") or []):
        return OrderStatus.RETURNED
    if native.get("fulfillment_status") in _SHIPPED_FULFILLMENT:
        shipments = {f.get("shipment_status") for f in native.get("fulfillments") or []}
        return OrderStatus.DELIVERED if "delivered" in shipments else OrderStatus.SHIPPED
    if native.get("financial_status") in _CONFIRMED_FINANCIAL:
        return OrderStatus.CONFIRMED
    return OrderStatus.PLACED


def payment_method(native: NativeOrder) -> PaymentMethod | None:
    gateways = native.get("payment_gateway_names")
    if not gateways:
        return None
    cod = any(
        "cash on delivery" in str(g).casefold() or str(g).casefold() == "cod" for g in gateways
    )
    return PaymentMethod.CASH_ON_DELIVERY if cod else PaymentMethod.PREPAID


def shipping_address(address: dict[str, Any], fallback_name: str) -> ShippingAddress | None:
    if not address.get("city"):
        return None
    return ShippingAddress(
        name=text(address.get("name") or fallback_name),
        phone=address.get("phone"),
        line1=address.get("address1"),
        line2=address.get("address2"),
        city=text(address["city"]),
        state=address.get("province"),
        postal_code=address.get("zip"),
        country=address.get("country_code") or "IN",
    )


def shipment(native: NativeOrder) -> Shipment | None:
    for fulfillment in native.get("fulfillments") or []:
        carrier, number = fulfillment.get("tracking_company"), fulfillment.get("tracking_number")
        if carrier and number:
            return Shipment(carrier=text(carrier), tracking_number=text(number))
    return None


def buyer(native: NativeOrder, customer: dict[str, Any], name: Any, phone: Any) -> Customer:
    """The buyer, in either of Shopify's renderings: the order's own email before its
    customer's."""
    return Customer(
        name=text(name),
        phone=indian_phone(phone),
        email=native.get("email") or customer.get("email"),
    )


def line_item(item: dict[str, Any], price: float) -> OrderItem:
    """A line item, in either of Shopify's renderings (they name its price apart)."""
    return OrderItem(
        sku=text(item["sku"]), name=text(item["title"]), qty=item["quantity"], price=price
    )


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
        customer=buyer(native, customer, name, phone),
        items=[line_item(item, money(item["price"])) for item in native["line_items"]],
        total=money(native["total_price"]),
        currency=native["currency"],
        status=canonical_status(native),
        placed_at=iso_time(native["created_at"]),
        updated_at=iso_time(native["updated_at"]),
        shipping_address=shipping_address(address, text(name)),
        payment_method=payment_method(native),
        shipment=shipment(native),
    )
