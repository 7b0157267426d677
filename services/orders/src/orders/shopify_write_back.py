"""An admin's status move written back to Shopify through the Admin GraphQL API.

Shopify has no "set status": each move is its own mutation, on the records it concerns:

| move      | mutation                                   | on                                  |
|-----------|--------------------------------------------|-------------------------------------|
| CONFIRMED | ``orderMarkAsPaid``                        | the order                           |
| SHIPPED   | ``fulfillmentCreate`` with ``trackingInfo`` | the order's open fulfillment orders |
| DELIVERED | ``fulfillmentEventCreate`` (``DELIVERED``)  | the order's fulfilment              |
| CANCELLED | ``orderCancel`` (refund, restock)          | the order                           |
| RETURNED  | ``returnCreate``                           | the fulfilment's line items         |

The mutations take no idempotency key, so each send first reads the order: one that already
shows the asked status (a send repeated after a timeout, a crash before the answer was kept)
is acknowledged without a second mutation. A mutation's ``userErrors`` are Shopify's refusal,
in its own words.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orderhub_common.events import OrderStatus, Shipment
from orderhub_common.shopify import ShopifyAdminClient, order_gid, order_status

STATE_QUERY = """
query WriteBackState($id: ID!) {
  order(id: $id) {
    cancelledAt
    displayFinancialStatus
    displayFulfillmentStatus
    fulfillmentOrders(first: 5) { nodes { id status } }
    fulfillments(first: 5) {
      id
      displayStatus
      fulfillmentLineItems(first: 20) { nodes { id quantity } }
    }
    returns(first: 5) { nodes { status } }
  }
}
"""
MARK_AS_PAID = """
mutation MarkAsPaid($input: OrderMarkAsPaidInput!) {
  orderMarkAsPaid(input: $input) { userErrors { field message } }
}
"""
CANCEL = """
mutation Cancel($orderId: ID!) {
  orderCancel(
    orderId: $orderId, reason: OTHER, refund: true, restock: true, notifyCustomer: false,
    staffNote: "Cancelled in Order Hub"
  ) { userErrors: orderCancelUserErrors { field message } }
}
"""
FULFILL = """
mutation Fulfill($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) { userErrors { field message } }
}
"""
DELIVERED = """
mutation Delivered($event: FulfillmentEventInput!) {
  fulfillmentEventCreate(fulfillmentEvent: $event) { userErrors { field message } }
}
"""
RETURN = """
mutation Return($input: ReturnInput!) {
  returnCreate(returnInput: $input) { userErrors { field message } }
}
"""
_OPEN_FULFILLMENT_ORDERS = {"OPEN", "IN_PROGRESS"}


class ShopifyRefusedError(Exception):
    """Shopify will not make this move (its userErrors, or nothing to apply it to)."""


def mutation_for(
    order: Mapping[str, Any], gid: str, status: OrderStatus, shipment: Shipment | None
) -> tuple[str, dict[str, Any]]:
    """The mutation and its variables that move ``order`` (as STATE_QUERY read it) to ``status``."""
    if status == OrderStatus.CONFIRMED:
        return MARK_AS_PAID, {"input": {"id": gid}}
    if status == OrderStatus.CANCELLED:
        return CANCEL, {"orderId": gid}
    if status == OrderStatus.SHIPPED:
        open_orders = [
            {"fulfillmentOrderId": fo["id"]}
            for fo in order["fulfillmentOrders"]["nodes"]
            if fo["status"] in _OPEN_FULFILLMENT_ORDERS
        ]
        if not open_orders:
            raise ShopifyRefusedError("the order has no open fulfillment order to fulfil")
        fulfillment: dict[str, Any] = {
            "lineItemsByFulfillmentOrder": open_orders,
            "notifyCustomer": True,
        }
        if shipment is not None:
            fulfillment["trackingInfo"] = {
                "company": shipment.carrier,
                "number": shipment.tracking_number,
            }
        return FULFILL, {"fulfillment": fulfillment}
    fulfillments = order["fulfillments"]
    if not fulfillments:
        raise ShopifyRefusedError(f"the order has no fulfilment to mark {status.value.lower()}")
    if status == OrderStatus.DELIVERED:
        return DELIVERED, {"event": {"fulfillmentId": fulfillments[0]["id"], "status": "DELIVERED"}}
    lines = [
        {"fulfillmentLineItemId": line["id"], "quantity": line["quantity"], "returnReason": "OTHER"}
        for fulfillment in fulfillments
        for line in fulfillment["fulfillmentLineItems"]["nodes"]
    ]
    return RETURN, {"input": {"orderId": gid, "returnLineItems": lines, "notifyCustomer": False}}


async def write_back(
    admin: ShopifyAdminClient,
    external_id: str,
    status: OrderStatus,
    shipment: Shipment | None,
) -> None:
    """Returns once the shop shows ``status``; raises ``ShopifyRefusedError`` when it will not,
    ``orderhub_common.shopify.ShopifyError`` when it did not answer as asked."""
    gid = order_gid(external_id)
    order = (await admin.execute(STATE_QUERY, {"id": gid}))["order"]
    if order is None:
        raise ShopifyRefusedError(f"the shop has no order {external_id}")
    if order_status(order) == status:
        return
    mutation, variables = mutation_for(order, gid, status, shipment)
    data = await admin.execute(mutation, variables)
    [payload] = data.values()
    errors = (payload or {}).get("userErrors") or []
    if errors:
        raise ShopifyRefusedError("; ".join(str(e.get("message")) for e in errors))
