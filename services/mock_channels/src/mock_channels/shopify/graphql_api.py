"""``POST /website/admin/api/{version}/graphql.json``: the Admin GraphQL endpoint.

Executed by Ariadne over ``schema.graphql`` (graphql-core parses and validates every query; an
unknown field is a validation error, as at Shopify). Around the execution, what Shopify does:
the custom app's token in ``X-Shopify-Access-Token`` (401 otherwise), the channel's injected
faults (down, error rate, latency), the cost bucket (``THROTTLED`` when a call's requested cost
is not available), and ``extensions.cost`` on every answer.

The ``orders`` query's ``query`` argument understands the filters Order Hub sends,
``updated_at:>=<ISO 8601>`` (or ``>``) with ``sortKey: UPDATED_AT``, and ``created_at:>=`` (or
``>``) with ``sortKey: CREATED_AT``; anything else is a GraphQL error, not ignored.
"""

from __future__ import annotations

import functools
import hmac
import re
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from ariadne import MutationType, QueryType, graphql, load_schema_from_path, make_executable_schema
from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLResolveInfo,
    OperationDefinitionNode,
    parse,
    validate,
)

from mock_channels.api.feeds import apply_faults
from mock_channels.deps import ChannelStoreDep
from mock_channels.models import Shipment
from mock_channels.page_tokens import decode_page_token, encode_page_token
from mock_channels.shopify import resources
from mock_channels.shopify.cost import CostBucket, operation_cost
from mock_channels.store import (
    ChannelStore,
    FeedOrder,
    MockOrderNotFoundError,
    WriteBackRejectedError,
    position_of,
)
from orderhub_common.events import Channel, OrderStatus

router = APIRouter(tags=["website (Shopify Admin GraphQL)"])

_SCHEMA = Path(__file__).with_name("schema.graphql")
_TIME_FILTER = re.compile(r"^\s*(updated_at|created_at):(>=|>)'?([0-9T:.+\-Z]+)'?\s*$")
# Each filter with the sort it comes with, and the feed that serves it.
_SORTS = {
    "UPDATED_AT": ("updated_at", FeedOrder.UPDATED),
    "CREATED_AT": ("created_at", FeedOrder.PLACED),
}
_MAX_PAGE = 250
query = QueryType()
mutation = MutationType()


def _since(search: str | None, field: str) -> datetime | None:
    if not search:
        return None
    match = _TIME_FILTER.match(search)
    if match is None or match.group(1) != field:
        raise GraphQLError(
            f"unsupported search query {search!r}: only {field}:>= is modelled with this sortKey"
        )
    moment = datetime.fromisoformat(match.group(3).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise GraphQLError(f"{field} needs a time zone")
    return moment + timedelta(seconds=1) if match.group(2) == ">" else moment


@query.field("orders")
def resolve_orders(
    _: None,
    info: GraphQLResolveInfo,
    first: int | None = None,
    after: str | None = None,
    query: str | None = None,
    reverse: bool | None = None,
    **arguments: Any,
) -> dict[str, Any]:
    if first is None or not 1 <= first <= _MAX_PAGE:
        raise GraphQLError(f"first must be between 1 and {_MAX_PAGE}")
    sort_key = arguments.get("sortKey") or "UPDATED_AT"
    if sort_key not in _SORTS or reverse:
        raise GraphQLError("the simulator lists orders by UPDATED_AT or CREATED_AT ascending only")
    field, by = _SORTS[sort_key]
    store: ChannelStore = info.context["store"]
    since = _since(query, field)
    position = None
    if after:
        token_since, position = decode_page_token(after)
        if position.by is not by:
            raise GraphQLError("the cursor belongs to a list in another sort order")
        since = max((s for s in (since, token_since) if s is not None), default=None)
    page = store.page(Channel.WEBSITE, since=since, after=position, limit=first, by=by)
    nodes = [resources.render_order(order) for order in page.orders]
    cursors = [encode_page_token(since, position_of(order, by)) for order in page.orders]
    return {
        "nodes": nodes,
        "edges": [{"cursor": c, "node": n} for c, n in zip(cursors, nodes, strict=True)],
        "pageInfo": {
            "hasNextPage": page.next_position is not None,
            "hasPreviousPage": position is not None,
            "startCursor": cursors[0] if cursors else None,
            "endCursor": cursors[-1] if cursors else None,
        },
    }


@query.field("order")
def resolve_order(_: None, info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:
    number = resources.gid_number(id, "Order")
    store: ChannelStore = info.context["store"]
    try:
        return resources.render_order(store.get(Channel.WEBSITE, str(number)))
    except MockOrderNotFoundError:
        return None


def _user_error(field: str, message: str) -> list[dict[str, Any]]:
    return [{"field": [field], "message": message}]


def _write(
    info: GraphQLResolveInfo,
    number: int | None,
    status: OrderStatus,
    field: str,
    shipment: Shipment | None = None,
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """Applies a seller's move; returns the order (rendered) or the user errors."""
    store: ChannelStore = info.context["store"]
    if number is None:
        return None, _user_error(field, "is not a valid id")
    try:
        # Unlike a status API, a mutation is an act: Shopify refuses to repeat one already done
        # (paying a paid order, cancelling a cancelled one), so the write-back must check first.
        if store.get(Channel.WEBSITE, str(number)).status == status:
            return None, _user_error(field, f"the order is already {status.value.lower()}")
        order = store.write_back(
            Channel.WEBSITE, str(number), status, key=f"graphql:{uuid.uuid4()}", shipment=shipment
        )
    except MockOrderNotFoundError:
        return None, _user_error(field, "Order does not exist")
    except WriteBackRejectedError as refused:
        return None, _user_error(field, str(refused))
    return resources.render_order(order), []


@mutation.field("orderMarkAsPaid")
def resolve_mark_as_paid(
    _: None, info: GraphQLResolveInfo, input: dict[str, Any]
) -> dict[str, Any]:
    number = resources.gid_number(input["id"], "Order")
    order, errors = _write(info, number, OrderStatus.CONFIRMED, "id")
    return {"order": order, "userErrors": errors}


@mutation.field("orderCancel")
def resolve_cancel(_: None, info: GraphQLResolveInfo, **arguments: Any) -> dict[str, Any]:
    order, errors = _write(
        info, resources.gid_number(arguments["orderId"], "Order"), OrderStatus.CANCELLED, "orderId"
    )
    job = {"id": f"gid://shopify/Job/{uuid.uuid4()}", "done": True} if order else None
    return {"job": job, "orderCancelUserErrors": errors, "userErrors": errors}


@mutation.field("fulfillmentCreate")
def resolve_fulfillment_create(
    _: None, info: GraphQLResolveInfo, fulfillment: dict[str, Any], **_options: Any
) -> dict[str, Any]:
    groups = fulfillment["lineItemsByFulfillmentOrder"]
    numbers = {resources.gid_number(g["fulfillmentOrderId"], "FulfillmentOrder") for g in groups}
    if len(numbers) != 1 or None in numbers:
        errors = _user_error("fulfillment", "one fulfillment order of one order is modelled")
        return {"fulfillment": None, "userErrors": errors}
    [number] = numbers
    assert number is not None
    tracking = fulfillment.get("trackingInfo") or {}
    shipment = None
    if tracking.get("company") and tracking.get("number"):
        shipment = Shipment(tracking["company"], tracking["number"])
    order, errors = _write(
        info,
        number - resources.FULFILLMENT_ORDER_OFFSET,
        OrderStatus.SHIPPED,
        "fulfillment",
        shipment,
    )
    created = order["fulfillments"][0] if order and order["fulfillments"] else None
    return {"fulfillment": created, "userErrors": errors}


@mutation.field("fulfillmentEventCreate")
def resolve_fulfillment_event(
    _: None, info: GraphQLResolveInfo, **arguments: Any
) -> dict[str, Any]:
    event_input = arguments["fulfillmentEvent"]
    number = resources.gid_number(event_input["fulfillmentId"], "Fulfillment")
    status = event_input["status"]
    if number is None:
        return {"fulfillmentEvent": None, "userErrors": _user_error("fulfillmentId", "is invalid")}
    if status != "DELIVERED":  # other events change no order status Order Hub reads
        event = {
            "id": f"gid://shopify/FulfillmentEvent/{uuid.uuid4().int % 10**12}",
            "status": status,
        }
        return {"fulfillmentEvent": event, "userErrors": []}
    order, errors = _write(
        info, number - resources.FULFILLMENT_OFFSET, OrderStatus.DELIVERED, "fulfillmentId"
    )
    event = {"id": f"gid://shopify/FulfillmentEvent/{uuid.uuid4().int % 10**12}", "status": status}
    return {"fulfillmentEvent": event if order else None, "userErrors": errors}


@mutation.field("returnCreate")
def resolve_return_create(_: None, info: GraphQLResolveInfo, **arguments: Any) -> dict[str, Any]:
    return_input = arguments["returnInput"]
    number = resources.gid_number(return_input["orderId"], "Order")
    if not return_input["returnLineItems"]:
        return {"return": None, "userErrors": _user_error("returnLineItems", "can't be blank")}
    order, errors = _write(info, number, OrderStatus.RETURNED, "orderId")
    created = order["returns"]["nodes"][0] if order and order["returns"]["nodes"] else None
    return {"return": created, "userErrors": errors}


SCHEMA = make_executable_schema(load_schema_from_path(str(_SCHEMA)), query, mutation)
# Distinct query texts whose parse and validation are kept.
_KNOWN_QUERIES = 256


@functools.lru_cache(maxsize=_KNOWN_QUERIES)
def _checked_query(text: str) -> tuple[DocumentNode, tuple[GraphQLError, ...]]:
    """The query parsed and validated against the schema, once per text: a client sends the
    same few queries all day (ingest's order pages, the write-backs' mutations), and parsing and
    validating each anew took most of this endpoint's CPU (Ariadne's own advice: a memoized
    parser with a validator that keeps its answer). A text that does not parse raises
    ``GraphQLError`` every time (nothing is kept for it)."""
    document = parse(text)
    return document, tuple(validate(SCHEMA, document))


def _operation(document: Any, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name:
        operations = [o for o in operations if o.name and o.name.value == name]
    return operations[0] if len(operations) == 1 else None


@router.post(
    "/website/admin/api/{api_version}/graphql.json", summary="Shopify Admin GraphQL (subset)"
)
async def admin_graphql(
    api_version: str,
    request: Request,
    store: ChannelStoreDep,
    token: Annotated[str | None, Header(alias="X-Shopify-Access-Token")] = None,
) -> JSONResponse:
    shop = request.app.state.shopify
    if token is None or not hmac.compare_digest(token.encode(), shop.admin_token.encode()):
        message = "[API] Invalid API key or access token (unrecognized login or wrong password)"
        return JSONResponse({"errors": message}, status_code=401)
    await apply_faults(store, Channel.WEBSITE)
    try:
        body = await request.json()
        text = body["query"]
        variables = body.get("variables") or {}
        document, validation_errors = _checked_query(text)
    except (ValueError, KeyError, TypeError, GraphQLError) as exc:
        return JSONResponse({"errors": [{"message": f"invalid request: {exc}"}]}, status_code=400)
    operation = _operation(document, body.get("operationName"))
    if operation is None or not isinstance(variables, dict):
        return JSONResponse({"errors": [{"message": "one operation expected"}]}, status_code=400)
    bucket: CostBucket = shop.bucket
    requested = operation_cost(operation, variables, None)
    if requested > bucket.maximum:
        return _answer(
            {"errors": [_error("MAX_COST_EXCEEDED", requested, bucket)]}, requested, 0, bucket
        )
    if not bucket.take(requested):
        return _answer({"errors": [_error("THROTTLED", requested, bucket)]}, requested, 0, bucket)
    _, result = await graphql(
        SCHEMA,
        body,
        context_value={"store": store},
        debug=False,
        query_document=document,
        query_validator=lambda *_, **__: list(validation_errors),
    )
    actual = operation_cost(operation, variables, result.get("data"))
    bucket.give_back(requested - actual)
    return _answer(result, requested, actual, bucket)


def _error(code: str, requested: int, bucket: CostBucket) -> dict[str, Any]:
    message = (
        "Throttled"
        if code == "THROTTLED"
        else (
            f"Query cost is {requested}, which exceeds the single query max cost limit "
            f"({bucket.maximum:.0f})."
        )
    )
    return {"message": message, "extensions": {"code": code}}


def _answer(body: dict[str, Any], requested: int, actual: int, bucket: CostBucket) -> JSONResponse:
    cost = {
        "requestedQueryCost": requested,
        "actualQueryCost": actual if "data" in body else None,
        "throttleStatus": bucket.status(),
    }
    return JSONResponse({**body, "extensions": {"cost": cost}})
