"""Shopify's order -> canonical order, from either of Shopify's renderings: the Admin GraphQL
``Order`` the poll reads, or the REST order JSON a webhook carries (``normalizers.website``).
Both name the order by the same number (``legacyResourceId`` is the REST ``id``), so a webhook
and the poll that reconciles it publish the same order.

The status is ``orderhub_common.shopify.order_status`` (the write-back reads it too). The
channel's tags and note are read, but the canonical order has no field for them (CONTRACT.md).
"""

from __future__ import annotations

from typing import Any

from ingest.normalizers import website
from ingest.normalizers.common import NativeOrder, guarded, iso_time, money, text
from orderhub_common.events import (
    Channel,
    ChannelOrder,
    Shipment,
    ShippingAddress,
)
from orderhub_common.shopify import order_status


def _shipment(native: NativeOrder) -> Shipment | None:
    for fulfillment in native.get("fulfillments") or []:
        for tracking in fulfillment.get("trackingInfo") or []:
            if tracking.get("company") and tracking.get("number"):
                return Shipment(
                    carrier=text(tracking["company"]), tracking_number=text(tracking["number"])
                )
    return None


def _address(address: dict[str, Any], fallback_name: str) -> ShippingAddress | None:
    """GraphQL's address reads as REST's but for the country's name."""
    rest_address = {**address, "country_code": address.get("countryCodeV2")}
    return website.shipping_address(rest_address, fallback_name)


def _shop_money(money_bag: Any) -> tuple[float, str]:
    shop = money_bag["shopMoney"]
    return money(shop["amount"]), shop["currencyCode"]


@guarded(Channel.WEBSITE, "legacyResourceId")
def normalize_graphql(native: NativeOrder) -> ChannelOrder:
    customer: dict[str, Any] = native.get("customer") or {}
    address: dict[str, Any] = native.get("shippingAddress") or {}
    name = " ".join(
        part for part in (customer.get("firstName"), customer.get("lastName")) if part
    ) or address.get("name")
    phone = native.get("phone") or customer.get("phone") or address.get("phone")
    total, currency = _shop_money(native["totalPriceSet"])
    return ChannelOrder(
        channel=Channel.WEBSITE,
        external_id=str(native["legacyResourceId"]),
        customer=website.buyer(native, customer, name, phone),
        items=[
            website.line_item(item, _shop_money(item["originalUnitPriceSet"])[0])
            for item in native["lineItems"]["nodes"]
        ],
        total=total,
        currency=native.get("currencyCode") or currency,
        status=order_status(native),
        placed_at=iso_time(native["createdAt"].replace("Z", "+00:00")),
        updated_at=iso_time(native["updatedAt"].replace("Z", "+00:00")),
        shipping_address=_address(address, text(name)),
        payment_method=website.payment_method(
            {"payment_gateway_names": native.get("paymentGatewayNames")}
        ),
        shipment=_shipment(native),
    )


def normalize(native: NativeOrder) -> ChannelOrder:
    """Either rendering: GraphQL's (it has ``legacyResourceId``) or REST's (webhooks)."""
    if isinstance(native, dict) and "legacyResourceId" in native:
        return normalize_graphql(native)
    return website.normalize(native)
