"""``GET /api/events``: the live stream of order events, as Server-Sent Events."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from pydantic import TypeAdapter
from sse_starlette import EventSourceResponse, ServerSentEvent

from gateway.deps import CurrentEdge, admit, header_credentials
from gateway.edge import Edge
from gateway.redis_outage import REDIS_FAILURES
from gateway.routes import Access
from gateway.schemas import ApiError
from orderhub_common.events import ORDER_EVENT_TYPES, OrderEvent
from orderhub_common.security import Principal

router = APIRouter(tags=["events"])

# How long a browser waits before reconnecting after the stream drops.
_RECONNECT_MS = 3000
# A client that stops reading altogether is let go instead of holding its connection forever.
_SEND_TIMEOUT_S = 30

_DESCRIPTION = """\
One event per order created or changed, as it happens (no replay: refetch after connecting).

Each event has `event: order.created` or `event: order.status_changed`, `id:` the event id, and
`data:` the order event as JSON (the `orders.events.v1` schema). Comment lines (`: ping`) keep
the connection alive.

Signed in with the `Authorization` header only (never a token in the URL, where proxies and logs
would keep it). The stream ends when the access token expires or is revoked (a sign-out, or a
change of the user's role, state, password or email): the client reconnects with a fresh token.
"""


def _inlined(node: Any, definitions: dict[str, Any]) -> Any:
    """``node`` with every local ``$ref`` replaced by its definition (the models are not
    recursive), so the schema stands alone inside the API document."""
    if isinstance(node, dict):
        if "$ref" in node:
            return _inlined(definitions[node["$ref"].rsplit("/", 1)[-1]], definitions)
        # The discriminator's mapping names definitions by reference; the union is plain oneOf.
        return {k: _inlined(v, definitions) for k, v in node.items() if k != "discriminator"}
    if isinstance(node, list):
        return [_inlined(value, definitions) for value in node]
    return node


def _stream_item_schema() -> dict[str, Any]:
    """One event of the stream as a client parses it: its ``event``, ``id`` and ``data`` fields.

    (OpenAPI before 3.2 has a stream's ``schema`` describe each of its events.)
    """
    data_schema = TypeAdapter[Any](OrderEvent).json_schema(by_alias=True)
    data_schema = _inlined(data_schema, data_schema.pop("$defs", {}))
    event_types = [model.model_fields["event_type"].default for model in ORDER_EVENT_TYPES]
    return {
        "type": "object",
        "required": ["event", "id", "data"],
        "properties": {
            "event": {"type": "string", "enum": event_types},
            "id": {"type": "string", "format": "uuid", "description": "The event's `eventId`"},
            "data": {
                "type": "string",
                "description": "The order event, as JSON (the `orders.events.v1` schema)",
                "contentMediaType": "application/json",
                "contentSchema": data_schema,
            },
            "retry": {"type": "integer", "description": "Milliseconds to wait to reconnect"},
        },
    }


@router.get(
    "/api/events",
    summary="Order events (Server-Sent Events)",
    description=_DESCRIPTION,
    response_class=EventSourceResponse,
    responses={
        200: {
            "description": "The stream, one event per order created or changed",
            "content": {"text/event-stream": {"schema": _stream_item_schema()}},
        },
        401: {"model": ApiError, "description": "Not signed in"},
        429: {"model": ApiError, "description": "Rate limited"},
    },
)
async def order_events(request: Request, edge: CurrentEdge) -> EventSourceResponse:
    admission = await admit(request, edge, Access.SIGNED_IN, header_credentials(request))
    assert admission.principal is not None  # a signed-in route admits only principals
    return EventSourceResponse(
        _event_stream(edge, admission.principal),
        ping=edge.settings.sse_heartbeat_s,
        send_timeout=_SEND_TIMEOUT_S,
    )


async def _event_stream(edge: Edge, principal: Principal) -> AsyncIterator[ServerSentEvent]:
    """The order events, for as long as ``principal``'s token stands: the stream ends at the
    token's expiry, and within ``GATEWAY_SSE_REVALIDATE_S`` of its revocation."""
    expires_at = principal.expires_at.timestamp()
    revalidate_s = edge.settings.sse_revalidate_s
    async with edge.hub.subscribe() as subscription:
        # Tells the client the stream is live (it is subscribed from here on).
        yield ServerSentEvent(comment="connected", retry=_RECONNECT_MS)
        check_at = time.time() + revalidate_s
        while (now := time.time()) < expires_at:
            if now >= check_at:
                if not await _still_stands(edge, principal):
                    return
                check_at = now + revalidate_s
            try:
                message = await subscription.receive(min(expires_at, check_at) - now)
            except TimeoutError:
                continue
            if message is None:
                return
            yield ServerSentEvent(data=message.data, event=message.event_type, id=message.event_id)


async def _still_stands(edge: Edge, principal: Principal) -> bool:
    try:
        return await edge.revocations.is_current(principal)
    except REDIS_FAILURES:
        return True  # as every edge check: Redis down fails open (the expiry still ends it)
