"""A simulated order as Shopify's Admin GraphQL API renders it (the schema.graphql subset).

Statuses follow formats/website.py's table (the REST rendering, which the webhooks carry), in
GraphQL's enum words; ids are ``gid://shopify/<Type>/<n>``, numbered from the order's id.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mock_channels.catalog import rupees
from mock_channels.formats import website
from mock_channels.models import MockOrder
from orderhub_common.events import OrderStatus

# Offsets from the order's numeric id: each kind of record gets ids of its own.
FULFILLMENT_ORDER_OFFSET = 500
RETURN_OFFSET = 700
FULFILLMENT_OFFSET = 900
FULFILLMENT_LINE_OFFSET = 1000
_SHIPPED = {OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.RETURNED}


def gid(kind: str, number: int) -> str:
    return f"gid://shopify/{kind}/{number}"


def gid_number(value: Any, kind: str) -> int | None:
    prefix = f"gid://shopify/{kind}/"
    if not isinstance(value, str) or not value.startswith(prefix):
        return None
    tail = value.removeprefix(prefix)
    return int(tail) if tail.isdigit() else None


def graphql_time(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _money(paise: int) -> dict[str, Any]:
    amount = {"amount": rupees(paise), "currencyCode": "INR"}
    return {"shopMoney": amount, "presentmentMoney": amount}


def _no_more_pages() -> dict[str, Any]:
    return {"hasNextPage": False, "hasPreviousPage": False, "endCursor": None, "startCursor": None}


def _fulfillment_order_status(order: MockOrder) -> str:
    if order.status in _SHIPPED:
        return "CLOSED"
    return "CANCELLED" if order.status == OrderStatus.CANCELLED else "OPEN"


def render_order(order: MockOrder) -> dict[str, Any]:
    native = website.render(order)  # the REST rendering: one source for statuses and contacts
    number = int(order.external_id)
    buyer = order.buyer
    address = native["shipping_address"]
    fulfillments = [
        {
            "id": gid("Fulfillment", number + FULFILLMENT_OFFSET),
            "status": "SUCCESS",
            "displayStatus": "DELIVERED"
            if rest["shipment_status"] == "delivered"
            else "IN_TRANSIT",
            "createdAt": graphql_time(order.status_times.get(OrderStatus.SHIPPED)),
            "trackingInfo": [
                {
                    "company": rest["tracking_company"],
                    "number": rest["tracking_number"],
                    "url": None,
                }
            ],
            "fulfillmentLineItems": {
                "nodes": [
                    {
                        "id": gid("FulfillmentLineItem", number + FULFILLMENT_LINE_OFFSET + i),
                        "quantity": item.qty,
                    }
                    for i, item in enumerate(order.items)
                ],
                "pageInfo": _no_more_pages(),
            },
        }
        for rest in native["fulfillments"]
    ]
    returns = [
        {"id": gid("Return", number + RETURN_OFFSET), "status": "CLOSED"} for _ in native["returns"]
    ]
    return {
        "id": gid("Order", number),
        "legacyResourceId": str(number),
        "name": native["name"],
        "email": native["email"],
        "phone": native["phone"],
        "createdAt": graphql_time(order.placed_at),
        "processedAt": graphql_time(order.placed_at),
        "updatedAt": graphql_time(order.updated_at),
        "cancelledAt": graphql_time(order.status_times.get(OrderStatus.CANCELLED))
        if order.status == OrderStatus.CANCELLED
        else None,
        "cancelReason": "CUSTOMER" if order.status == OrderStatus.CANCELLED else None,
        "displayFinancialStatus": native["financial_status"].upper(),
        "displayFulfillmentStatus": "FULFILLED" if order.status in _SHIPPED else "UNFULFILLED",
        "paymentGatewayNames": native["payment_gateway_names"],
        "tags": [],
        "note": None,
        "currencyCode": "INR",
        "totalPriceSet": _money(order.total_paise),
        "subtotalPriceSet": _money(order.total_paise),
        "customer": {
            "id": gid("Customer", number // 7),
            "firstName": buyer.first_name,
            "lastName": buyer.last_name,
            "email": buyer.email,
            "phone": native["phone"],
        },
        "shippingAddress": {
            "name": address["name"],
            "phone": address["phone"],
            "address1": address["address1"],
            "address2": address["address2"],
            "city": address["city"],
            "province": address["province"],
            "zip": address["zip"],
            "country": address["country"],
            "countryCodeV2": address["country_code"],
        },
        "lineItems": {
            "nodes": [
                {
                    "id": gid("LineItem", number + index + 1),
                    "sku": item.sku,
                    "title": item.title,
                    "quantity": item.qty,
                    "originalUnitPriceSet": _money(item.unit_price_paise),
                }
                for index, item in enumerate(order.items)
            ],
            "pageInfo": _no_more_pages(),
        },
        "fulfillments": fulfillments,
        "fulfillmentOrders": {
            "nodes": [
                {
                    "id": gid("FulfillmentOrder", number + FULFILLMENT_ORDER_OFFSET),
                    "status": _fulfillment_order_status(order),
                }
            ],
            "pageInfo": _no_more_pages(),
        },
        "returns": {"nodes": returns, "pageInfo": _no_more_pages()},
    }
