"""Amazon's Selling Partner API, simulated for one seller on Amazon.in: Login with Amazon, the
Tokens API and the Orders API v0 operations Order Hub uses, at Amazon's paths (under
``/amazon``), in Amazon's shapes and error format (``{"errors": [{code, message, details}]}``),
with its usage plans.

Every Selling Partner API call goes through ``gate``, in Amazon's order: the channel's injected
faults (the control API's outage), the ``x-amz-access-token`` (an LWA access token, or a
restricted data token that opens exactly the resources it names), then the operation's usage
plan (429 ``QuotaExceeded``). Answers carry ``x-amzn-RateLimit-Limit`` and ``x-amzn-RequestId``.

Write-backs: ``updateShipmentStatus`` (Easy Ship: ReadyForPickup, PickedUp, RefusedPickup) and
``confirmShipment`` (a merchant-fulfilled package with its carrier, tracking number and items).
Orders v0 has no idempotency token; both operations set a state, so Amazon applies a repeat as
the same change: the simulator keys each by what it sets (the order and the shipment status, or
the order and the seller's ``packageReferenceId``) and answers a repeat as it answered the first.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from mock_channels.amazon_sp.sign_in import (
    DATA_ELEMENTS,
    RESTRICTED_PATHS,
    Grant,
    RestrictedResource,
    SignIn,
    TokenRefusedError,
)
from mock_channels.amazon_sp.usage_plans import UsagePlans
from mock_channels.api.feeds import ChannelFailureError, apply_faults, read_orders
from mock_channels.deps import ChannelStoreDep
from mock_channels.formats import amazon
from mock_channels.models import MockOrder, Shipment
from mock_channels.page_tokens import InvalidPageTokenError
from mock_channels.store import (
    ChannelStore,
    FeedOrder,
    MockOrderNotFoundError,
    WriteBackRejectedError,
)
from orderhub_common.amazon_sp_api import ACCESS_TOKEN_HEADER, RATE_LIMIT_HEADER
from orderhub_common.errors import ServiceUnavailableError
from orderhub_common.events import Channel, OrderStatus
from orderhub_common.logging import utc_now

PREFIX = "/amazon"
router = APIRouter(prefix=PREFIX, tags=["amazon selling partner api"])
control_router = APIRouter(prefix="/_control/amazon", tags=["control"])
MAX_RESULTS_PER_PAGE = 100


@dataclass
class AmazonSimulator:
    sign_in: SignIn
    plans: UsagePlans
    items_per_page: int


async def get_amazon(request: Request) -> AmazonSimulator:
    simulator: AmazonSimulator = request.app.state.amazon
    return simulator


AmazonDep = Annotated[AmazonSimulator, Depends(get_amazon)]


class SpApiAnswerError(Exception):
    """An error answer in Amazon's shape, raised from anywhere in a handler."""

    def __init__(
        self, status: int, code: str, message: str, details: str = "", **headers: str
    ) -> None:
        super().__init__(message)
        error = {"code": code, "message": message} | ({"details": details} if details else {})
        self.response = JSONResponse({"errors": [error]}, status_code=status, headers=headers)


def invalid(message: str) -> SpApiAnswerError:
    return SpApiAnswerError(400, "InvalidInput", message)


def _headers(simulator: AmazonSimulator, operation: str) -> dict[str, str]:
    return {
        RATE_LIMIT_HEADER: simulator.plans.limit_header(operation),
        "x-amzn-RequestId": str(uuid.uuid4()),
    }


async def gate(
    request: Request, store: ChannelStore, simulator: AmazonSimulator, operation: str
) -> Grant:
    try:
        await apply_faults(store, Channel.AMAZON)
    except ServiceUnavailableError as exc:
        raise SpApiAnswerError(503, "ServiceUnavailable", str(exc)) from None
    except ChannelFailureError as exc:
        raise SpApiAnswerError(500, "InternalFailure", str(exc)) from None
    denied = "Access to requested resource is denied."
    try:
        grant = simulator.sign_in.grant(request.headers.get(ACCESS_TOKEN_HEADER))
    except TokenRefusedError as problem:
        raise SpApiAnswerError(403, "Unauthorized", denied, str(problem)) from None
    path = request.url.path.removeprefix(PREFIX)
    if grant.restricted and not any(r.opens(request.method, path) for r in grant.restricted):
        raise SpApiAnswerError(
            403, "Unauthorized", denied, "The restricted data token does not open it."
        )
    if not simulator.plans.take(operation):
        raise SpApiAnswerError(
            429,
            "QuotaExceeded",
            "You exceeded your quota for the requested resource.",
            **{RATE_LIMIT_HEADER: simulator.plans.limit_header(operation)},
        )
    return grant


def answered(
    simulator: AmazonSimulator, operation: str, payload: dict[str, Any] | None
) -> Response:
    headers = _headers(simulator, operation)
    if payload is None:
        return Response(status_code=204, headers=headers)
    return JSONResponse({"payload": payload}, headers=headers)


def _order(store: ChannelStore, order_id: str) -> MockOrder:
    try:
        return store.get(Channel.AMAZON, order_id)
    except MockOrderNotFoundError:
        raise SpApiAnswerError(404, "NotFound", f"Order {order_id} was not found.") from None


def _time(value: str, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise invalid(f"{name} is not an ISO 8601 date-time.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _list(values: list[str]) -> list[str]:
    return [part for value in values for part in value.split(",") if part]


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except ValueError:
        raise invalid("The request body is not JSON.") from None
    if not isinstance(body, dict):
        raise invalid("The request body must be an object.")
    return body


async def _handled(call: Any) -> Response:
    try:
        response: Response = await call
    except SpApiAnswerError as answer:
        return answer.response
    return response


# --- Login with Amazon -------------------------------------------------------------------------


@router.post("/auth/o2/token", summary="Login with Amazon: the refresh grant")
async def lwa_token(request: Request, simulator: AmazonDep) -> JSONResponse:
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
    status, answer = simulator.sign_in.exchange(form)
    return JSONResponse(answer, status_code=status, headers={"Cache-Control": "no-store"})


# --- Tokens API ----------------------------------------------------------------------------------


@router.post("/tokens/2021-03-01/restrictedDataToken", summary="createRestrictedDataToken")
async def create_restricted_data_token(
    request: Request, store: ChannelStoreDep, simulator: AmazonDep
) -> Response:
    async def handle() -> Response:
        grant = await gate(request, store, simulator, "createRestrictedDataToken")
        if grant.restricted:
            raise SpApiAnswerError(403, "Unauthorized", "An RDT cannot ask for another RDT.")
        resources = _restricted_resources(await _body(request))
        answer = simulator.sign_in.restricted_data_token(resources)
        return JSONResponse(answer, headers=_headers(simulator, "createRestrictedDataToken"))

    return await _handled(handle())


def _restricted_resources(body: dict[str, Any]) -> tuple[RestrictedResource, ...]:
    asked = body.get("restrictedResources")
    if not isinstance(asked, list) or not 1 <= len(asked) <= 50:
        raise invalid("restrictedResources must list 1 to 50 resources.")
    resources = []
    for resource in asked:
        if not isinstance(resource, dict):
            raise invalid("A restricted resource must be an object.")
        method, path = resource.get("method"), resource.get("path")
        elements = resource.get("dataElements", [])
        if method not in ("GET", "PUT", "POST", "DELETE") or not isinstance(path, str):
            raise invalid("A restricted resource needs a method and a path.")
        restricted = path in RESTRICTED_PATHS or any(
            RestrictedResource(method, template, frozenset()).opens(method, path)
            for template in RESTRICTED_PATHS
        )
        if not restricted:
            raise invalid(f"{path} is not a restricted resource.")
        if not isinstance(elements, list) or not set(elements) <= DATA_ELEMENTS:
            raise invalid(f"dataElements must be among {sorted(DATA_ELEMENTS)}.")
        resources.append(RestrictedResource(method, path, frozenset(elements)))
    return tuple(resources)


# --- Orders API v0 -------------------------------------------------------------------------------


@router.get("/orders/v0/orders", summary="getOrders")
async def get_orders(request: Request, store: ChannelStoreDep, simulator: AmazonDep) -> Response:
    async def handle() -> Response:
        grant = await gate(request, store, simulator, "getOrders")
        query = request.query_params
        marketplaces = _list(query.getlist("MarketplaceIds"))
        if not marketplaces:
            raise invalid("MarketplaceIds is required.")
        if amazon.MARKETPLACE_ID not in marketplaces:
            raise invalid(f"The seller does not sell in {','.join(marketplaces)}.")
        token = query.get("NextToken")
        created_after, updated_after = query.get("CreatedAfter"), query.get("LastUpdatedAfter")
        if not token and bool(created_after) == bool(updated_after):
            raise invalid("Exactly one of CreatedAfter and LastUpdatedAfter is required.")
        if created_after and query.get("LastUpdatedBefore"):
            raise invalid("LastUpdatedBefore cannot be set when CreatedAfter is set.")
        if updated_after and query.get("CreatedBefore"):
            raise invalid("CreatedBefore cannot be set when LastUpdatedAfter is set.")
        if query.get("CreatedBefore") or query.get("LastUpdatedBefore"):
            raise invalid("The simulator does not model CreatedBefore or LastUpdatedBefore.")
        try:
            limit = int(query.get("MaxResultsPerPage", MAX_RESULTS_PER_PAGE))
        except ValueError:
            limit = 0
        if not 1 <= limit <= MAX_RESULTS_PER_PAGE:
            raise invalid("MaxResultsPerPage must be from 1 to 100.")
        by, since = FeedOrder.UPDATED, None
        if not token and created_after:
            by, since = FeedOrder.PLACED, _time(created_after, "CreatedAfter")
        elif not token and updated_after:
            since = _time(updated_after, "LastUpdatedAfter")
        try:
            orders, next_token = read_orders(
                store, Channel.AMAZON, since=since, token=token, limit=limit, by=by
            )
        except InvalidPageTokenError:
            raise invalid("Invalid NextToken.") from None
        elements = grant.data_elements("GET", "/orders/v0/orders")
        payload: dict[str, Any] = {
            "Orders": [amazon.render_order(order, elements) for order in orders],
            "LastUpdatedBefore": amazon.amazon_time(utc_now()),
        }
        if next_token:
            payload["NextToken"] = next_token
        return answered(simulator, "getOrders", payload)

    return await _handled(handle())


@router.get("/orders/v0/orders/{order_id}", summary="getOrder")
async def get_order(
    order_id: str, request: Request, store: ChannelStoreDep, simulator: AmazonDep
) -> Response:
    async def handle() -> Response:
        grant = await gate(request, store, simulator, "getOrder")
        elements = grant.data_elements("GET", f"/orders/v0/orders/{order_id}")
        return answered(
            simulator, "getOrder", amazon.render_order(_order(store, order_id), elements)
        )

    return await _handled(handle())


@router.get("/orders/v0/orders/{order_id}/orderItems", summary="getOrderItems")
async def get_order_items(
    order_id: str, request: Request, store: ChannelStoreDep, simulator: AmazonDep
) -> Response:
    async def handle() -> Response:
        await gate(request, store, simulator, "getOrderItems")
        items = amazon.render_items(_order(store, order_id))
        start = _item_position(order_id, request.query_params.get("NextToken"))
        end = start + simulator.items_per_page
        payload: dict[str, Any] = {"AmazonOrderId": order_id, "OrderItems": items[start:end]}
        if end < len(items):
            payload["NextToken"] = _item_token(order_id, end)
        return answered(simulator, "getOrderItems", payload)

    return await _handled(handle())


def _item_token(order_id: str, position: int) -> str:
    return base64.urlsafe_b64encode(f"{order_id}:{position}".encode()).decode()


def _item_position(order_id: str, token: str | None) -> int:
    if not token:
        return 0
    try:
        named, position = base64.urlsafe_b64decode(token.encode()).decode().rsplit(":", 1)
        if named == order_id and int(position) > 0:
            return int(position)
    except (ValueError, binascii.Error):
        pass
    raise invalid("Invalid NextToken.")


@router.get("/orders/v0/orders/{order_id}/address", summary="getOrderAddress")
async def get_order_address(
    order_id: str, request: Request, store: ChannelStoreDep, simulator: AmazonDep
) -> Response:
    async def handle() -> Response:
        grant = await gate(request, store, simulator, "getOrderAddress")
        order = _order(store, order_id)
        address = amazon.render_address(order, restricted=bool(grant.restricted))
        payload = {"AmazonOrderId": order_id, "ShippingAddress": address}
        return answered(simulator, "getOrderAddress", payload)

    return await _handled(handle())


@router.get("/orders/v0/orders/{order_id}/buyerInfo", summary="getOrderBuyerInfo")
async def get_order_buyer_info(
    order_id: str, request: Request, store: ChannelStoreDep, simulator: AmazonDep
) -> Response:
    async def handle() -> Response:
        grant = await gate(request, store, simulator, "getOrderBuyerInfo")
        order = _order(store, order_id)
        buyer = amazon.render_buyer(order) if grant.restricted else {}
        return answered(simulator, "getOrderBuyerInfo", {"AmazonOrderId": order_id, **buyer})

    return await _handled(handle())


@router.post("/orders/v0/orders/{order_id}/shipment", summary="updateShipmentStatus")
async def update_shipment_status(
    order_id: str, request: Request, store: ChannelStoreDep, simulator: AmazonDep
) -> Response:
    async def handle() -> Response:
        await gate(request, store, simulator, "updateShipmentStatus")
        body = await _body(request)
        native = body.get("shipmentStatus")
        if body.get("marketplaceId") != amazon.MARKETPLACE_ID:
            raise invalid("marketplaceId is not a marketplace of this order.")
        if not isinstance(native, str) or native not in amazon.SHIPMENT_STATUS:
            raise invalid(f"shipmentStatus must be one of {sorted(amazon.SHIPMENT_STATUS)}.")
        _order(store, order_id)
        key = f"updateShipmentStatus:{order_id}:{native}"
        _write_back(store, order_id, amazon.SHIPMENT_STATUS[native], key, None)
        return answered(simulator, "updateShipmentStatus", None)

    return await _handled(handle())


@router.post("/orders/v0/orders/{order_id}/shipmentConfirmation", summary="confirmShipment")
async def confirm_shipment(
    order_id: str, request: Request, store: ChannelStoreDep, simulator: AmazonDep
) -> Response:
    async def handle() -> Response:
        await gate(request, store, simulator, "confirmShipment")
        body = await _body(request)
        if body.get("marketplaceId") != amazon.MARKETPLACE_ID:
            raise invalid("marketplaceId is not a marketplace of this order.")
        package = body.get("packageDetail")
        if not isinstance(package, dict):
            raise invalid("packageDetail is required.")
        order = _order(store, order_id)
        shipment = _package_shipment(order, package)
        key = f"confirmShipment:{order_id}:{package['packageReferenceId']}"
        _write_back(store, order_id, OrderStatus.SHIPPED, key, shipment)
        return answered(simulator, "confirmShipment", None)

    return await _handled(handle())


def _package_shipment(order: MockOrder, package: dict[str, Any]) -> Shipment:
    for name in ("packageReferenceId", "carrierCode", "trackingNumber", "shipDate"):
        if not isinstance(package.get(name), str) or not package[name]:
            raise invalid(f"packageDetail.{name} is required.")
    if not package["packageReferenceId"].isdigit():
        raise invalid("packageDetail.packageReferenceId must be a positive number.")
    carrier = package["carrierCode"]
    if carrier == "Other":
        carrier = package.get("carrierName")
        if not isinstance(carrier, str) or not carrier:
            raise invalid("packageDetail.carrierName is required when carrierCode is Other.")
    _time(package["shipDate"], "packageDetail.shipDate")
    ordered = {
        amazon.order_item_id(order, index): item.qty for index, item in enumerate(order.items)
    }
    items = package.get("orderItems")
    if not isinstance(items, list) or not items:
        raise invalid("packageDetail.orderItems is required.")
    for item in items:
        item_id = item.get("orderItemId") if isinstance(item, dict) else None
        quantity = item.get("quantity") if isinstance(item, dict) else None
        if item_id not in ordered:
            raise invalid(f"orderItemId {item_id} is not an item of this order.")
        if not isinstance(quantity, int) or not 1 <= quantity <= ordered[item_id]:
            raise invalid(f"The quantity of {item_id} is not what was ordered.")
    return Shipment(carrier, package["trackingNumber"])


def _write_back(
    store: ChannelStore,
    order_id: str,
    status: OrderStatus,
    key: str,
    shipment: Shipment | None,
) -> None:
    try:
        store.write_back(Channel.AMAZON, order_id, status, key=key, shipment=shipment)
    except WriteBackRejectedError as refused:
        raise invalid(str(refused)) from None


# --- control API: what a test needs beyond the seller's own calls ------------------------------


@control_router.post("/sign-in/expire", status_code=204, response_class=Response)
async def expire_tokens(simulator: AmazonDep) -> None:
    """Every access and restricted data token ends now, before its holder expects it to."""
    simulator.sign_in.expire_all()


@control_router.post("/sign-in/revoke", status_code=204, response_class=Response)
async def revoke_tokens(simulator: AmazonDep) -> None:
    """Every access and restricted data token is forgotten, as after the seller authorized the
    application again (or the simulator restarted): each is answered as revoked."""
    simulator.sign_in.revoke_all()


@control_router.get("/sign-in")
async def sign_in_count(simulator: AmazonDep) -> dict[str, int]:
    return {"signIns": simulator.sign_in.sign_ins}
