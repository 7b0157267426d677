"""Amazon's write-back: an admin's move sent through the Selling Partner API's own operations.

- CONFIRMED: ``updateShipmentStatus`` ReadyForPickup (Easy Ship: packed, ready for pickup);
- SHIPPED without tracking: ``updateShipmentStatus`` PickedUp (Easy Ship: Amazon's carrier took
  it);
- SHIPPED with carrier and tracking: ``confirmShipment`` (merchant-fulfilled: the seller's own
  carrier; one package holding every item, read by ``getOrderItems``);
- DELIVERED, CANCELLED, RETURNED: none. Amazon's carrier reports deliveries and returns, and a
  seller cancels in Seller Central (or by the order-cancellation feed): refused here, with that
  reason, for a person to do.

Idempotency: Orders v0 takes no idempotency token; both operations set a state, so a repeat
(the relay sending again after a timeout) is the same change at Amazon: the same shipment
status, or the same package (``packageReferenceId`` 1, Order Hub sends one package per order).

Sign-in, pacing and throttling: ``orderhub_common.amazon_sp_api``, with ingest's credentials.
"""

from __future__ import annotations

from typing import Any

import httpx

from orderhub_common.amazon_sp_api import SpApiClient, SpApiError
from orderhub_common.events import OrderStatus
from orderhub_common.logging import utc_now
from orders.repository import WriteBackRequest

ORDERS_PATH = "/orders/v0/orders"
PACKAGE_REFERENCE_ID = "1"
_SHIPMENT_STATUS = {OrderStatus.CONFIRMED: "ReadyForPickup", OrderStatus.SHIPPED: "PickedUp"}


class AmazonCannotError(Exception):
    """Amazon has no seller operation for this move: a person does it in Seller Central."""


class AmazonUnansweredError(Exception):
    """The call could not be made (sign-in refused, still throttled, unreachable)."""


def update_shipment_status_body(request: WriteBackRequest, marketplace_id: str) -> dict[str, Any]:
    return {"marketplaceId": marketplace_id, "shipmentStatus": _SHIPMENT_STATUS[request.status]}


def confirm_shipment_body(
    request: WriteBackRequest, marketplace_id: str, items: list[dict[str, Any]]
) -> dict[str, Any]:
    assert request.shipment is not None
    return {
        "marketplaceId": marketplace_id,
        "packageDetail": {
            "packageReferenceId": PACKAGE_REFERENCE_ID,
            "carrierCode": "Other",
            "carrierName": request.shipment.carrier,
            "trackingNumber": request.shipment.tracking_number,
            "shipDate": utc_now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "orderItems": [
                {"orderItemId": item["OrderItemId"], "quantity": item["QuantityOrdered"]}
                for item in items
            ],
        },
    }


class AmazonShipments:
    def __init__(self, client: SpApiClient) -> None:
        self.client = client
        self.marketplace_id = client.connection.marketplace_ids[0]

    async def close(self) -> None:
        await self.client.close()

    async def send(self, request: WriteBackRequest) -> httpx.Response:
        """Amazon's answer to the move; raises ``AmazonCannotError`` for a move Amazon has no
        operation for, ``AmazonUnansweredError`` when no answer came."""
        order_path = f"{ORDERS_PATH}/{request.external_id}"
        try:
            if request.status == OrderStatus.SHIPPED and request.shipment is not None:
                items = await self._items(order_path)
                if isinstance(items, httpx.Response):
                    return items  # Amazon refused to list them: its answer stands
                body = confirm_shipment_body(request, self.marketplace_id, items)
                return await self.client.call(
                    "confirmShipment", "POST", f"{order_path}/shipmentConfirmation", json=body
                )
            if request.status in _SHIPMENT_STATUS:
                body = update_shipment_status_body(request, self.marketplace_id)
                return await self.client.call(
                    "updateShipmentStatus", "POST", f"{order_path}/shipment", json=body
                )
        except SpApiError as exc:
            raise AmazonUnansweredError(str(exc)) from None
        raise AmazonCannotError(
            f"Amazon's Orders API has no seller operation for {request.status}: Amazon's carrier "
            "reports deliveries and returns, and a seller cancels in Seller Central"
        )

    async def _items(self, order_path: str) -> list[dict[str, Any]] | httpx.Response:
        items: list[dict[str, Any]] = []
        params: dict[str, str] | None = None
        while True:
            response = await self.client.call(
                "getOrderItems", "GET", f"{order_path}/orderItems", params=params
            )
            if not response.is_success:
                return response
            payload = response.json()["payload"]
            items.extend(payload["OrderItems"])
            if not payload.get("NextToken"):
                return items
            params = {"NextToken": payload["NextToken"]}
