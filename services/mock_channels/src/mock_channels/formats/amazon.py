"""Amazon: an SP-API Orders v0 order (Amazon.in marketplace).

Amazon's ``OrderStatus`` has no "delivered"; Easy Ship orders (the usual way on Amazon.in) carry
``EasyShipShipmentStatus``, whose ``Delivered`` is how a delivery shows:

| canonical | OrderStatus | EasyShipShipmentStatus |
|---|---|---|
| PLACED    | Pending   | PendingSchedule |
| CONFIRMED | Unshipped | PendingPickUp |
| SHIPPED   | Shipped   | PickedUp |
| DELIVERED | Shipped   | Delivered |
| CANCELLED | Canceled  | LabelCanceled |
| RETURNED  | Shipped   | ReturnedToSeller |

``PaymentMethod`` is ``COD`` for cash on delivery, ``Other`` for prepaid. Once shipped, the
Easy Ship package (``EasyShipPackage``) names the carrier and the tracking id.

As on Amazon, ``getOrders`` serves an order without its items (``render_order``); they come
from ``getOrderItems`` (``render_items``), and the buyer's name and email and the full shipping
address only to a caller whose restricted data token grants ``buyerInfo`` and
``shippingAddress``: anyone else sees the city, state, postal code and country. ``render`` (the
control API's view) is the whole order with its items inline. ``ItemPrice`` is, as on Amazon,
the price of the whole line (unit price times quantity). Timestamps are second-precision UTC.
"""

from __future__ import annotations

import random
import zlib
from datetime import UTC, datetime
from typing import Any

from mock_channels.catalog import rupees
from mock_channels.models import MockOrder
from orderhub_common.events import OrderStatus

MARKETPLACE_ID = "A21TJRUUN4KGV"  # Amazon.in

ORDER_STATUS = {
    OrderStatus.PLACED: "Pending",
    OrderStatus.CONFIRMED: "Unshipped",
    OrderStatus.SHIPPED: "Shipped",
    OrderStatus.DELIVERED: "Shipped",
    OrderStatus.CANCELLED: "Canceled",
    OrderStatus.RETURNED: "Shipped",
}
EASY_SHIP_STATUS = {
    OrderStatus.PLACED: "PendingSchedule",
    OrderStatus.CONFIRMED: "PendingPickUp",
    OrderStatus.SHIPPED: "PickedUp",
    OrderStatus.DELIVERED: "Delivered",
    OrderStatus.CANCELLED: "LabelCanceled",
    OrderStatus.RETURNED: "ReturnedToSeller",
}
# ``updateShipmentStatus`` (``POST /orders/v0/orders/{orderId}/shipment``), the model's
# ``ShipmentStatus``: the package is ready for Amazon's pickup, was picked up, or the seller
# refused the pickup (the order cannot go: the nearest canonical status is cancelled).
SHIPMENT_STATUS = {
    "ReadyForPickup": OrderStatus.CONFIRMED,
    "PickedUp": OrderStatus.SHIPPED,
    "RefusedPickup": OrderStatus.CANCELLED,
}
_SHIPPED = {OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.RETURNED}
CARRIER = "Amazon Shipping"


def default_tracking_number(external_id: str) -> str:
    return f"AMZIN{external_id.replace('-', '')[-10:]}"


def new_external_id(rng: random.Random) -> str:
    return f"40{rng.randrange(2, 8)}-{rng.randrange(10**7):07d}-{rng.randrange(10**7):07d}"


def amazon_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _money(paise: int) -> dict[str, str]:
    return {"CurrencyCode": "INR", "Amount": rupees(paise)}


BUYER_INFO = "buyerInfo"
SHIPPING_ADDRESS = "shippingAddress"
ALL_DATA_ELEMENTS = frozenset({BUYER_INFO, SHIPPING_ADDRESS})


def render(order: MockOrder) -> dict[str, Any]:
    """The whole order, items inline: the control API's view of it."""
    return render_order(order, ALL_DATA_ELEMENTS) | {"OrderItems": render_items(order)}


def order_item_id(order: MockOrder, index: int) -> str:
    return f"{order.external_id.replace('-', '')[-10:]}{index:04d}"


def render_items(order: MockOrder) -> list[dict[str, Any]]:
    shipped = order.status in _SHIPPED
    return [
        {
            "ASIN": f"B0{zlib.crc32(item.sku.encode()) % 10**8:08d}",
            "SellerSKU": item.sku,
            "OrderItemId": order_item_id(order, index),
            "Title": item.title,
            "QuantityOrdered": item.qty,
            "QuantityShipped": item.qty if shipped else 0,
            "ItemPrice": _money(item.total_paise),
        }
        for index, item in enumerate(order.items)
    ]


def render_buyer(order: MockOrder) -> dict[str, Any]:
    return {
        "BuyerEmail": f"{order.external_id.replace('-', '')[-12:]}@marketplace.amazon.in",
        "BuyerName": order.buyer.name,
    }


def render_address(order: MockOrder, *, restricted: bool) -> dict[str, Any]:
    buyer = order.buyer
    if not restricted:
        return {
            "City": buyer.city,
            "StateOrRegion": buyer.state,
            "PostalCode": buyer.postal_code,
            "CountryCode": "IN",
        }
    return {
        "Name": buyer.name,
        "Phone": f"+91 {buyer.phone[:5]} {buyer.phone[5:]}",
        "AddressLine1": buyer.street,
        "City": buyer.city,
        "StateOrRegion": buyer.state,
        "PostalCode": buyer.postal_code,
        "CountryCode": "IN",
    }


def render_order(order: MockOrder, data_elements: frozenset[str]) -> dict[str, Any]:
    """An ``Order`` of ``getOrders``: buyer and address as far as ``data_elements`` grant."""
    shipped = order.status in _SHIPPED
    quantity = sum(item.qty for item in order.items)
    return {
        "AmazonOrderId": order.external_id,
        "PurchaseDate": amazon_time(order.placed_at),
        "LastUpdateDate": amazon_time(order.updated_at),
        "OrderStatus": ORDER_STATUS[order.status],
        "EasyShipShipmentStatus": EASY_SHIP_STATUS[order.status],
        "FulfillmentChannel": "MFN",
        "SalesChannel": "Amazon.in",
        "ShipServiceLevel": "Std IN Dom_1",
        "OrderType": "StandardOrder",
        "MarketplaceId": MARKETPLACE_ID,
        "OrderTotal": _money(order.total_paise),
        "NumberOfItemsShipped": quantity if shipped else 0,
        "NumberOfItemsUnshipped": 0 if shipped else quantity,
        "PaymentMethod": "COD" if order.cash_on_delivery else "Other",
        "IsPrime": order.number % 2 == 0,
        "IsBusinessOrder": False,
        "BuyerInfo": render_buyer(order) if BUYER_INFO in data_elements else {},
        "ShippingAddress": render_address(order, restricted=SHIPPING_ADDRESS in data_elements),
        "EasyShipPackage": {
            "CarrierName": order.shipment.carrier if order.shipment else CARRIER,
            "TrackingId": order.shipment.tracking_number
            if order.shipment
            else default_tracking_number(order.external_id),
        }
        if shipped
        else None,
    }
