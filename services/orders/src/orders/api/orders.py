"""``/orders``: list, stats, detail and the admin's status move. Handlers only translate."""

from __future__ import annotations

import math
from typing import Annotated

import orjson
from fastapi import APIRouter, Path, Query, Response

from orderhub_common.events import Order, OrderStatus
from orderhub_common.http import ClientAddress
from orders.deps import Admin, OrderServiceDep, SignedIn
from orders.schemas import (
    CustomerOrders,
    NoteCreate,
    OrderEnvelope,
    OrderFilters,
    OrderListQuery,
    OrderMatches,
    OrderMatchQuery,
    OrderPage,
    OrderPagination,
    OrderStats,
    OrderStatusChange,
    TagInUse,
    TagsChange,
    TagsInUse,
)
from orders.service import Actor
from orders.state_machine import ALLOWED_MOVES

router = APIRouter(prefix="/orders", tags=["orders"])

OrderId = Annotated[str, Path(min_length=1, max_length=100)]

_AUTH_ERRORS: dict[int | str, dict[str, str]] = {
    401: {"description": "Not signed in, or the access token is not valid"},
}


@router.get(
    "",
    responses={
        **_AUTH_ERRORS,
        400: {"description": "A cursor or startAt this list cannot use (`invalid_cursor`)"},
    },
    response_model=OrderPage,
)
async def list_orders(
    query: Annotated[OrderListQuery, Query()], orders: OrderServiceDep, _: SignedIn
) -> Response:
    """Orders matching every given filter, one page at a time, in a stable order.

    Pages are numbered (`page`, an OFFSET: fine for the first pages) or reached by cursor
    (`cursor` from an answer's `nextCursor`/`prevCursor`/`lastCursor`, or `startAt` to jump to a
    date, amount, status or channel under the sort): any depth then costs what page 1 does, and
    an order added meanwhile never shifts the rows of the next page. A search or tag matching
    more than 1,000 orders answers an estimated total (`totalIsEstimate`)."""
    result = await orders.list(query)
    pagination = OrderPagination(
        page=query.page,
        limit=query.limit,
        total=result.total,
        total_pages=math.ceil(result.total / query.limit),
        total_is_estimate=result.total_is_estimate,
        next_cursor=result.next_cursor,
        prev_cursor=result.prev_cursor,
        last_cursor=result.last_cursor,
    )
    # The orders' JSON is passed on as the query side keeps it (an OrderPage's own shape).
    body = b'{"orders":[%b],"pagination":%b}' % (
        ",".join(result.documents).encode(),
        pagination.model_dump_json().encode(),
    )
    return Response(content=body, media_type="application/json")


@router.get("/stats", responses=_AUTH_ERRORS)
async def order_stats(
    filters: Annotated[OrderFilters, Query()], orders: OrderServiceDep, _: SignedIn
) -> OrderStats:
    """Counts by channel and by status, revenue by channel and currency, of the orders matching
    the same filters as the list."""
    return await orders.stats(filters)


@router.get("/tags", responses=_AUTH_ERRORS)
async def tags_in_use(orders: OrderServiceDep, _: SignedIn) -> TagsInUse:
    """The tags orders carry, most used first (up to 200), with how many orders carry each:
    kept as the orders change, so this reads no order."""
    return TagsInUse(
        tags=[TagInUse(tag=tag, orders=n) for tag, n in await orders.tags_in_use(limit=200)]
    )


@router.get("/matching", responses=_AUTH_ERRORS)
async def matching_orders(
    query: Annotated[OrderMatchQuery, Query()], orders: OrderServiceDep, _: SignedIn
) -> OrderMatches:
    """Which of the given orders (`ids`, up to 100) the list under the same filters holds: how
    the SPA tells whether an order it just heard of belongs to the view on screen."""
    return OrderMatches(ids=list(await orders.matching(query)))


def _allowed_moves(status: OrderStatus) -> list[OrderStatus]:
    moves = ALLOWED_MOVES[status]
    return [s for s in OrderStatus if s in moves]


def _envelope(order: Order) -> OrderEnvelope:
    return OrderEnvelope(order=order, allowed_moves=_allowed_moves(order.status))


@router.get(
    "/{order_id}",
    responses={**_AUTH_ERRORS, 404: {"description": "No such order (`order_not_found`)"}},
    response_model=OrderEnvelope,
)
async def get_order(order_id: OrderId, orders: OrderServiceDep, _: SignedIn) -> Response:
    served = await orders.detail(order_id)
    # The order's JSON is passed on as the query side keeps it (as the list does).
    body = b'{"order":%b,"allowedMoves":%b}' % (
        served.document.encode(),
        orjson.dumps(_allowed_moves(served.status)),
    )
    return Response(content=body, media_type="application/json")


@router.patch(
    "/{order_id}/status",
    responses={
        **_AUTH_ERRORS,
        403: {"description": "Signed in without the admin role"},
        404: {"description": "No such order (`order_not_found`)"},
        409: {"description": "The state machine forbids this move (`invalid_transition`)"},
    },
)
async def change_order_status(
    order_id: OrderId,
    change: OrderStatusChange,
    orders: OrderServiceDep,
    admin: Admin,
    address: ClientAddress,
) -> OrderEnvelope:
    """Moves the order one allowed step, recording who did it and why; the next list read
    shows the move."""
    order = await orders.move_status(
        order_id,
        change.status,
        changed_by=admin.user_id,
        changed_by_email=admin.email,
        note=change.note,
        shipment=change.shipment,
        client_address=address,
    )
    return _envelope(order)


_ADMIN_WRITE: dict[int | str, dict[str, str]] = {
    **_AUTH_ERRORS,
    403: {"description": "Signed in without the admin role"},
    404: {"description": "No such order (`order_not_found`)"},
}


@router.post("/{order_id}/notes", status_code=201, responses=_ADMIN_WRITE)
async def add_order_note(
    order_id: OrderId,
    body: NoteCreate,
    orders: OrderServiceDep,
    admin: Admin,
    address: ClientAddress,
) -> OrderEnvelope:
    """Adds an admin's note to the order, in any status; it joins the order's timeline and
    search, and is announced as `order.note_added`."""
    order = await orders.add_note(order_id, body.text, actor=Actor(admin, address))
    return _envelope(order)


@router.patch("/{order_id}/tags", responses=_ADMIN_WRITE)
async def change_order_tags(
    order_id: OrderId,
    body: TagsChange,
    orders: OrderServiceDep,
    admin: Admin,
    address: ClientAddress,
) -> OrderEnvelope:
    """Adds and removes free tags (kept in lower case); the order list filters by them
    (`tag=`) and search finds them. Announced as `order.tags_changed` when they changed."""
    order = await orders.change_tags(order_id, body.add, body.remove, actor=Actor(admin, address))
    return _envelope(order)


@router.get(
    "/{order_id}/customer-orders",
    responses={**_AUTH_ERRORS, 404: {"description": "No such order (`order_not_found`)"}},
)
async def customer_orders(
    order_id: OrderId, orders: OrderServiceDep, _: SignedIn
) -> CustomerOrders:
    """The customer's other orders (same phone number or email), newest first, up to 20."""
    order, others = await orders.customer_orders(order_id)
    return CustomerOrders(customer=order.customer, orders=others.orders, total=others.total)
