"""The channels' native status-update APIs (a seller telling the channel an order moved), each in
its platform's own shape and error format, honouring an idempotency key, subject to faults.

- website: Shopify's GraphQL mutations (``mock_channels.shopify.graphql_api``);
- amazon: the Selling Partner API's own operations, in ``api/amazon.py``;
- blinkit: ``PATCH /blinkit/v1/orders/{order_id}/status`` ``{status, rider: {partner, awb}}``,
  header ``X-Idempotency-Key``; a refusal is 409 ``{"error": {code, message}}``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header
from fastapi.responses import JSONResponse, Response

from mock_channels.api.feeds import apply_faults
from mock_channels.deps import ChannelStoreDep
from mock_channels.formats import FORMATS, blinkit
from mock_channels.models import Shipment
from mock_channels.store import WriteBackRejectedError
from orderhub_common.events import Channel, OrderStatus

router = APIRouter(tags=["channel status updates"])


def _shipment(carrier: Any, tracking: Any) -> Shipment | None:
    if isinstance(carrier, str) and isinstance(tracking, str) and carrier and tracking:
        return Shipment(carrier, tracking)
    return None


def _status(table: dict[str, OrderStatus], native: Any) -> OrderStatus | None:
    return table.get(native) if isinstance(native, str) else None


@router.patch("/blinkit/v1/orders/{order_id}/status", summary="Blinkit seller status update")
async def blinkit_status_update(
    order_id: str,
    store: ChannelStoreDep,
    body: Annotated[dict[str, Any], Body()],
    idempotency_key: Annotated[str, Header(alias="X-Idempotency-Key", min_length=1)],
) -> Response:
    await apply_faults(store, Channel.BLINKIT)
    status = _status(blinkit.UPDATE_STATUS, body.get("status"))
    if status is None:
        error = {"code": "invalid_status", "message": "unknown status"}
        return JSONResponse({"error": error}, status_code=409)
    rider: dict[str, Any] = body["rider"] if isinstance(body.get("rider"), dict) else {}
    shipment = _shipment(rider.get("partner"), rider.get("awb"))
    try:
        order = store.write_back(
            Channel.BLINKIT, order_id, status, key=idempotency_key, shipment=shipment
        )
    except WriteBackRejectedError as refused:
        error = {"code": "invalid_status", "message": str(refused)}
        return JSONResponse({"error": error}, status_code=409)
    return JSONResponse({"order": FORMATS[Channel.BLINKIT].render(order)})
