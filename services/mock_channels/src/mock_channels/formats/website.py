"""The website's order as Shopify's REST JSON renders it: the body of its order webhooks (the
Admin GraphQL rendering, which the polls read, is ``mock_channels.shopify.resources``).

Shopify has no single order status; it is spread over ``financial_status``,
``fulfillment_status``, ``cancelled_at`` and the fulfillments' ``shipment_status``:

| canonical | financial_status | fulfillment_status | shipment_status | cancelled_at |
|---|---|---|---|---|
| PLACED    | pending  | null      | -          | null |
| CONFIRMED | paid     | null      | -          | null |
| SHIPPED   | paid     | fulfilled | in_transit | null |
| DELIVERED | paid     | fulfilled | delivered  | null |
| CANCELLED | voided (refunded if it had been paid) | null | - | set |
| RETURNED  | refunded | fulfilled | delivered  | null, with a ``returns`` entry |

Cash on delivery orders name the "Cash on Delivery (COD)" gateway and stay ``pending`` until
delivered; prepaid ones name Razorpay. A shipped order's fulfilment carries the carrier
(``tracking_company``) and ``tracking_number``.

Timestamps are second-precision ISO 8601 in the shop's time zone (IST), money is a decimal string.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Any

from mock_channels.catalog import rupees
from mock_channels.models import MockOrder
from orderhub_common.events import OrderStatus

IST = timezone(timedelta(hours=5, minutes=30), "IST")

_PAID = {OrderStatus.CONFIRMED, OrderStatus.SHIPPED, OrderStatus.DELIVERED}
_SHIPMENT_STATUS = {
    OrderStatus.SHIPPED: "in_transit",
    OrderStatus.DELIVERED: "delivered",
    OrderStatus.RETURNED: "delivered",
}
COD_GATEWAY = "Cash on Delivery (COD)"
PREPAID_GATEWAY = "razorpay"
CARRIER = "Delhivery"


def default_tracking_number(external_id: str) -> str:
    return f"DLV{external_id[-9:]}"


def new_external_id(rng: random.Random) -> str:
    return str(rng.randrange(5_500_000_000_000, 6_500_000_000_000))


def shop_time(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(IST).replace(microsecond=0).isoformat()


def render(order: MockOrder) -> dict[str, Any]:
    buyer = order.buyer
    phone = f"+91{buyer.phone}"
    order_id = int(order.external_id)
    return {
        "id": order_id,
        "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
        "name": f"#{order.number}",
        "order_number": order.number,
        "email": buyer.email,
        "phone": phone,
        "created_at": shop_time(order.placed_at),
        "processed_at": shop_time(order.placed_at),
        "updated_at": shop_time(order.updated_at),
        "cancelled_at": shop_time(order.status_times.get(OrderStatus.CANCELLED))
        if order.status == OrderStatus.CANCELLED
        else None,
        "cancel_reason": "customer" if order.status == OrderStatus.CANCELLED else None,
        "financial_status": _financial_status(order),
        "fulfillment_status": "fulfilled" if order.status in _SHIPMENT_STATUS else None,
        "payment_gateway_names": [COD_GATEWAY if order.cash_on_delivery else PREPAID_GATEWAY],
        "currency": "INR",
        "presentment_currency": "INR",
        "subtotal_price": rupees(order.total_paise),
        "total_tax": "0.00",
        "total_price": rupees(order.total_paise),
        "customer": {
            "id": order_id // 7,
            "first_name": buyer.first_name,
            "last_name": buyer.last_name,
            "email": buyer.email,
            "phone": phone,
        },
        "shipping_address": {
            "name": buyer.name,
            "phone": phone,
            "address1": buyer.street,
            "address2": None,
            "city": buyer.city,
            "province": buyer.state,
            "zip": buyer.postal_code,
            "country": "India",
            "country_code": "IN",
        },
        "line_items": [
            {
                "id": order_id + index + 1,
                "sku": item.sku,
                "title": item.title,
                "quantity": item.qty,
                "price": rupees(item.unit_price_paise),
                "vendor": "Order Hub Jewels",
            }
            for index, item in enumerate(order.items)
        ],
        "fulfillments": _fulfillments(order),
        "returns": [
            {"id": order_id + 700, "status": "closed", "created_at": shop_time(returned_at)}
        ]
        if (returned_at := order.status_times.get(OrderStatus.RETURNED))
        and order.status == OrderStatus.RETURNED
        else [],
    }


def _financial_status(order: MockOrder) -> str:
    if order.status == OrderStatus.CANCELLED:
        return "refunded" if OrderStatus.CONFIRMED in order.status_times else "voided"
    if order.status == OrderStatus.RETURNED:
        return "refunded"
    if order.cash_on_delivery and order.status != OrderStatus.DELIVERED:
        # Cash is collected at the door; confirming a COD order marks it authorized.
        return "authorized" if order.status in _PAID else "pending"
    return "paid" if order.status in _PAID else "pending"


def _fulfillments(order: MockOrder) -> list[dict[str, Any]]:
    shipment_status = _SHIPMENT_STATUS.get(order.status)
    if shipment_status is None:
        return []
    shipped_at = order.status_times.get(OrderStatus.SHIPPED, order.updated_at)
    return [
        {
            "id": int(order.external_id) + 900,
            "status": "success",
            "shipment_status": shipment_status,
            "tracking_company": order.shipment.carrier if order.shipment else CARRIER,
            "tracking_number": order.shipment.tracking_number
            if order.shipment
            else default_tracking_number(order.external_id),
            "created_at": shop_time(shipped_at),
            "updated_at": shop_time(order.updated_at),
        }
    ]
