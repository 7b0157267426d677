"""``GET /api/events``: order events as Server-Sent Events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from gateway.deps import (
    EdgeState,
    admit,
    bearer_credentials,
    header_credentials,
    limit_client_ip,
)
from gateway.fanout import EventHub
from gateway.routes import Access
from gateway.schemas import ApiError

router = APIRouter(tags=["events"], dependencies=[Depends(limit_client_ip)])

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


@router.get(
    "/api/events",
    summary="Order events (Server-Sent Events)",
    description=_DESCRIPTION,
    response_class=EventSourceResponse,
    responses={
        200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}},
        401: {"model": ApiError, "description": "Not signed in"},
        429: {"model": ApiError, "description": "Rate limited"},
    },
)
async def order_events(
    request: Request,
    edge: EdgeState,
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
