"""``GET /api/events``: the live stream of order events, as Server-Sent Events."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sse_starlette import EventSourceResponse, ServerSentEvent

from gateway.deps import CurrentEdge, admit, header_credentials
from gateway.edge import Edge
from gateway.redis_outage import REDIS_FAILURES
from gateway.routes import Access
from gateway.schemas import ApiError
from gateway.stream_events import (
    OrdersChanged,
    StreamConnected,
    StreamEventName,
    StreamReset,
    stream_item_schema,
)
from orderhub_common.security import Principal

router = APIRouter(tags=["events"])

# How long a browser waits before reconnecting after the stream drops.
_RECONNECT_MS = 3000
# A client that stops reading altogether is let go instead of holding its connection forever.
_SEND_TIMEOUT_S = 30

_DESCRIPTION = """\
What changed among the orders, coalesced: at most one message per `GATEWAY_SSE_COALESCE_S`
(1 s by default) however many orders change, so a client's work is bounded.

Events (their `data` schemas are the components named here):
- `connected` (`StreamConnected`): the stream is open. Its `id` is where a reconnect resumes.
- `orders.changed` (`OrdersChanged`): every order created or changed since the previous message,
  oldest first (at most 1,000 per message; more follow one interval later).
- `reset` (`StreamReset`): changes were missed that cannot be replayed (the client fell too far
  behind, or `Last-Event-ID` is too old or from another gateway replica): refetch once, then
  carry on from here. A slow client is caught up this way, never disconnected.

Every event has an `id`; a client that reconnects with `Last-Event-ID` gets what it missed (the
last `SSE_REPLAY_SIZE` changes are kept): `connected` with `resumed: true`, then the missed
changes; or a `reset` when they are gone.
Comment lines (`: ping`) keep the connection alive.

Signed in with the `Authorization` header only (never a token in the URL, where proxies and logs
would keep it). The stream ends when the access token expires or is revoked (a sign-out, or a
change of the user's role, state, password or email): the client reconnects with a fresh token.
"""


@router.get(
    "/api/events",
    summary="Order events (Server-Sent Events)",
    description=_DESCRIPTION,
    response_class=EventSourceResponse,
    responses={
        200: {
            "description": "The stream, one event per order created or changed",
            "content": {"text/event-stream": {"schema": stream_item_schema()}},
        },
        401: {"model": ApiError, "description": "Not signed in"},
        429: {"model": ApiError, "description": "Rate limited"},
    },
)
async def order_events(request: Request, edge: CurrentEdge) -> EventSourceResponse:
    admission = await admit(request, edge, Access.SIGNED_IN, header_credentials(request))
    assert admission.principal is not None  # a signed-in route admits only principals
    return EventSourceResponse(
        _event_stream(edge, admission.principal, request.headers.get("last-event-id")),
        ping=edge.settings.sse_heartbeat_s,
        send_timeout=_SEND_TIMEOUT_S,
    )


async def _event_stream(
    edge: Edge, principal: Principal, last_event_id: str | None
) -> AsyncIterator[ServerSentEvent]:
    """The order changes, coalesced, for as long as ``principal``'s token stands: the stream
    ends at the token's expiry, and within ``GATEWAY_SSE_REVALIDATE_S`` of its revocation."""
    expires_at = principal.expires_at.timestamp()
    settings = edge.settings
    async with edge.hub.subscribe(last_event_id) as subscription:
        # Tells the client the stream is live (it is subscribed from here on).
        yield ServerSentEvent(comment="connected")
        if last_event_id and not subscription.resumed:
            yield _reset(subscription.position, "the stream cannot resume from Last-Event-ID")
        else:
            # Resumed: what was missed follows at once, as the first orders.changed.
            connected = StreamConnected(resumed=subscription.resumed)
            yield _event(StreamEventName.CONNECTED, connected, subscription.position, _RECONNECT_MS)
        check_at = time.time() + settings.sse_revalidate_s
        send_at = 0.0
        while (now := time.time()) < expires_at:
            if now >= check_at:
                if not await _still_stands(edge, principal):
                    return
                check_at = now + settings.sse_revalidate_s
            if now < send_at:
                # Coalescing: whatever changes meanwhile goes out in one message.
                await asyncio.sleep(min(send_at, check_at, expires_at) - now)
                continue
            try:
                batch = await subscription.next_batch(min(expires_at, check_at) - now)
            except TimeoutError:
                continue
            if batch.reset:
                yield _reset(batch.position, "this client fell too far behind")
            else:
                yield _event(
                    StreamEventName.ORDERS_CHANGED,
                    OrdersChanged(changes=batch.changes),
                    batch.position,
                )
            send_at = time.time() + settings.sse_coalesce_s


def _event(
    name: StreamEventName, data: BaseModel, position: str, retry: int | None = None
) -> ServerSentEvent:
    return ServerSentEvent(data=data.model_dump_json(), event=name.value, id=position, retry=retry)


def _reset(position: str, reason: str) -> ServerSentEvent:
    return _event(StreamEventName.RESET, StreamReset(reason=reason), position, _RECONNECT_MS)


async def _still_stands(edge: Edge, principal: Principal) -> bool:
    try:
        return await edge.revocations.is_current(principal)
    except REDIS_FAILURES:
        return True  # as every edge check: Redis down fails open (the expiry still ends it)
