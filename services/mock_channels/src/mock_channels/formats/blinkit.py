"""Blinkit: its own JSON, epoch-millisecond timestamps, money in integer paise.

| canonical | blinkit status |
|---|---|
| PLACED    | created |
| CONFIRMED | accepted |
| SHIPPED   | dispatched |
| DELIVERED | delivered |
| CANCELLED | cancelled |
| RETURNED  | returned |

``payment_mode`` is ``PREPAID`` or ``COD``; ``delivery_address`` is where the rider goes, and
once dispatched ``rider`` names the delivery partner and the trip's AWB number.

The customer's mobile number has no country code (ten digits), as the app shows it.
"""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from mock_channels.models import MockOrder
from orderhub_common.events import OrderStatus

STATUS = {
    OrderStatus.PLACED: "created",
    OrderStatus.CONFIRMED: "accepted",
    OrderStatus.SHIPPED: "dispatched",
    OrderStatus.DELIVERED: "delivered",
    OrderStatus.CANCELLED: "cancelled",
    OrderStatus.RETURNED: "returned",
}
# ``PATCH /v1/orders/{order_id}/status``: Blinkit's own status names.
UPDATE_STATUS = {native: canonical for canonical, native in STATUS.items()}
_DISPATCHED = {OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.RETURNED}
CARRIER = "Blinkit Fleet"


def default_tracking_number(external_id: str) -> str:
    return f"BKR{external_id[-8:]}"


DARK_STORES = ("BLR-HSR-014", "DEL-SKT-003", "MUM-AND-021", "HYD-MDP-008", "PUN-KOT-005")


def new_external_id(rng: random.Random) -> str:
    return f"BLK{rng.randrange(10**11, 10**12)}"


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def render(order: MockOrder) -> dict[str, Any]:
    return {
        "order_id": order.external_id,
        "status": STATUS[order.status],
        "created_at_ms": epoch_ms(order.placed_at),
        "updated_at_ms": epoch_ms(order.updated_at),
        "dark_store_id": DARK_STORES[order.number % len(DARK_STORES)],
        "customer": {"name": order.buyer.name, "mobile": order.buyer.phone},
        "payment_mode": "COD" if order.cash_on_delivery else "PREPAID",
        "delivery_address": {
            "receiver_name": order.buyer.name,
            "address_line": order.buyer.street,
            "city": order.buyer.city,
            "state": order.buyer.state,
            "pincode": order.buyer.postal_code,
        },
        "rider": {
            "partner": order.shipment.carrier if order.shipment else CARRIER,
            "awb": order.shipment.tracking_number
            if order.shipment
            else default_tracking_number(order.external_id),
        }
        if order.status in _DISPATCHED
        else None,
        "items": [
            {
                "item_code": item.sku,
                "name": item.title,
                "quantity": item.qty,
                "unit_price_paise": item.unit_price_paise,
                "total_paise": item.total_paise,
            }
            for item in order.items
        ],
        "bill": {"item_total_paise": order.total_paise, "total_paise": order.total_paise},
        "currency": "INR",
        "status_timeline": [
            {"status": STATUS[status], "at_ms": epoch_ms(moment)}
            for status, moment in sorted(order.status_times.items(), key=lambda s: s[1])
        ],
    }
