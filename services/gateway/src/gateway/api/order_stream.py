"""``GET /api/events``: the live stream of order events, as Server-Sent Events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import TypeAdapter
from sse_starlette import EventSourceResponse, ServerSentEvent

from gateway.deps import CurrentEdge, admit, bearer_credentials, header_credentials
from gateway.fanout import EventHub
from gateway.routes import Access
from gateway.schemas import ApiError
from orderhub_common.events import ORDER_EVENT_TYPES, OrderEvent

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

A browser's `EventSource` cannot send headers, so this route (and only this one) also accepts the
access token as the `access_token` query parameter. Prefer the `Authorization` header where the
client can send it.
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
async def order_events(
    request: Request,
    edge: CurrentEdge,
    access_token: Annotated[
        str | None,
        Query(description="The access token, for clients that cannot send headers"),
    ] = None,
) -> EventSourceResponse:
    credentials = header_credentials(request) or bearer_credentials(access_token)
    await admit(request, edge, Access.SIGNED_IN, credentials)
    return EventSourceResponse(
        _event_stream(edge.hub), ping=edge.settings.sse_heartbeat_s, send_timeout=_SEND_TIMEOUT_S
    )


async def _event_stream(hub: EventHub) -> AsyncIterator[ServerSentEvent]:
    async with hub.subscribe() as subscription:
        # Tells the client the stream is live (it is subscribed from here on).
        yield ServerSentEvent(comment="connected", retry=_RECONNECT_MS)
        async for message in subscription:
            yield ServerSentEvent(data=message.data, event=message.event_type, id=message.event_id)
