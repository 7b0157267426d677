"""Forwarding one API call to the service that owns it, through the order-read cache.

A call whose client disconnects is dropped: its call to the service is cancelled (a shared cache
fill only once no caller waits for it any more). An order write always runs to its end, so that
the cache learns of the change it may have made.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping
from typing import TypeVar

import httpx
from fastapi import Request, Response
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask

from gateway.cache import CachedResponse, CacheLookup, CacheSlot
from gateway.deps import Admission
from gateway.edge import Edge
from gateway.idempotency import HEADER, StoredAnswer
from gateway.metrics import CACHE_LOOKUPS
from gateway.routes import RouteMatch, Upstream
from gateway.upstreams import (
    UpstreamClient,
    UpstreamUnavailableError,
    downstream_response_headers,
    upstream_request_headers,
)
from orderhub_common.context import request_id_var
from orderhub_common.errors import DomainError
from orderhub_common.http import CLIENT_CLOSED_REQUEST, client_key
from orderhub_common.security import Principal

T = TypeVar("T")

# The calls that may use the SPA's session cookie instead of a refresh token in the body.
_SESSION_PATHS = frozenset({"/auth/refresh", "/auth/logout"})
_WEBHOOK_PATHS = frozenset({"/webhooks/shopify"})


class PayloadTooLargeError(DomainError):
    status_code = 413
    code = "payload_too_large"


async def forward(
    request: Request, edge: Edge, route: RouteMatch, admission: Admission
) -> Response:
    """The service's answer to the call, by the route's path through the edge: a cached order
    read, a file streamed, an order write the cache learns of, or any other call passed on."""
    client = edge.upstreams[route.upstream]
    headers = upstream_request_headers(
        request.headers,
        client_ip=client_key(request),
        request_id=request_id_var.get(),
        scheme=request.url.scheme,
        session=route.upstream is Upstream.AUTH and route.path in _SESSION_PATHS,
        webhook=route.upstream is Upstream.INGEST and route.path in _WEBHOOK_PATHS,
    )
    if admission.slot is not None and admission.lookup is not None:
        return await _cached_read(
            request, edge, client, route, headers, admission.slot, admission.lookup
        )
    if route.streams:
        return await _streamed(client, route, request.url.query, headers)
    if route.changes_orders:
        return await _order_write(request, edge, client, route, headers, admission.principal)
    return await _passed_on(request, edge, client, route, headers)


async def _cached_read(
    request: Request,
    edge: Edge,
    client: UpstreamClient,
    route: RouteMatch,
    headers: Mapping[str, str],
    slot: CacheSlot,
    lookup: CacheLookup,
) -> Response:
    """A cacheable order read looked up with the edge's checks: served from the cache, or from
    the one fill of its entry (``X-Cache`` says which)."""
    query = request.url.query

    async def fetch() -> httpx.Response:
        return await client.request("GET", route.path, query=query, headers=headers)

    hit = None if slot.revalidate else edge.reads.cached(lookup)
    if hit is not None:
        found: tuple[CachedResponse | httpx.Response, str] = hit, "HIT"
    else:
        filled = await unless_client_leaves(request, edge.reads.fill(slot, lookup, fetch))
        if filled is None:
            return Response(status_code=CLIENT_CLOSED_REQUEST)
        found = filled
    answer, how = found
    CACHE_LOOKUPS.labels(how.lower()).inc()
    response = (
        _from_cache(answer) if isinstance(answer, CachedResponse) else _passed_through(answer)
    )
    response.headers["X-Cache"] = how
    return response


async def _order_write(
    request: Request,
    edge: Edge,
    client: UpstreamClient,
    route: RouteMatch,
    headers: Mapping[str, str],
    writer: Principal | None,
) -> Response:
    """An order write, run to its end even if the client leaves, so that the cache learns of
    the change before anyone hears of it. Sent with an ``Idempotency-Key``, it is applied once
    however often it is sent (``idempotency``)."""
    key = request.headers.get(HEADER)
    if key is None or writer is None:
        call = await _call(request, edge, client, route, headers)
        return _passed_through(await _recorded_write(edge, route, call, writer))
    body = await _body(request, edge.settings.max_request_body_bytes) or b""

    async def write() -> httpx.Response:
        call = _request(request, client, route, headers, body)
        return await _recorded_write(edge, route, call, writer)

    answer = await edge.idempotent_writes.once(
        user_id=writer.user_id,
        method=request.method,
        path=f"{route.path}?{request.url.query}",
        key=key,
        body=body,
        write=write,
    )
    if isinstance(answer, StoredAnswer):
        replayed = Response(content=answer.body, status_code=answer.status_code)
        if answer.content_type:
            replayed.headers["Content-Type"] = answer.content_type
        replayed.headers["Idempotent-Replayed"] = "true"
        return replayed
    return _passed_through(answer)


async def _passed_on(
    request: Request,
    edge: Edge,
    client: UpstreamClient,
    route: RouteMatch,
    headers: Mapping[str, str],
) -> Response:
    """Any other call, dropped when its client leaves; a cacheable read while the cache is
    bypassed (Redis down, or a change not recorded yet) says so (``X-Cache: BYPASS``)."""
    call = await _call(request, edge, client, route, headers)
    left_or_answered = await unless_client_leaves(request, call)
    if left_or_answered is None:
        return Response(status_code=CLIENT_CLOSED_REQUEST)
    response = _passed_through(left_or_answered)
    if route.cacheable:
        CACHE_LOOKUPS.labels("bypass").inc()
        response.headers["X-Cache"] = "BYPASS"
    return response


async def _call(
    request: Request,
    edge: Edge,
    client: UpstreamClient,
    route: RouteMatch,
    headers: Mapping[str, str],
) -> Awaitable[httpx.Response]:
    """The call to the service with the request's body (read whole, within the edge's limit)."""
    body = await _body(request, edge.settings.max_request_body_bytes)
    return _request(request, client, route, headers, body)


def _request(
    request: Request,
    client: UpstreamClient,
    route: RouteMatch,
    headers: Mapping[str, str],
    body: bytes | None,
) -> Awaitable[httpx.Response]:
    """The call to the service carrying ``request``'s method and query with ``body``."""
    return client.request(
        request.method,
        route.path,
        query=request.url.query,
        headers=headers,
        content=body,
        timeout_s=route.timeout_s,
    )


async def _streamed(
    client: UpstreamClient, route: RouteMatch, query: str, headers: Mapping[str, str]
) -> Response:
    """The service's answer passed on chunk by chunk, so a large file costs no memory here."""
    upstream = await client.request(
        "GET", route.path, query=query, headers=headers, timeout_s=route.timeout_s, stream=True
    )
    response = StreamingResponse(
        upstream.aiter_bytes(),
        status_code=upstream.status_code,
        background=BackgroundTask(upstream.aclose),
    )
    for name, value in downstream_response_headers(upstream.headers.multi_items()):
        response.headers.append(name, value)
    return response


async def _recorded_write(
    edge: Edge, route: RouteMatch, call: Awaitable[httpx.Response], writer: Principal | None
) -> httpx.Response:
    """The write's answer, after the cache has learnt of it (before the caller hears of it)."""
    try:
        upstream_response = await call
    except UpstreamUnavailableError:
        # Sent but unanswered, the write may have been applied all the same.
        await edge.cache.record_write(route.order_id, writer.user_id if writer else None)
        raise
    if upstream_response.is_success:
        await edge.cache.record_write(route.order_id, writer.user_id if writer else None)
    return upstream_response


async def unless_client_leaves(request: Request, work: Awaitable[T]) -> T | None:
    """``work``'s result, or None once the client has disconnected (``work`` is cancelled then).

    Call it after the request body has been read: it listens for the disconnect on the request's
    ``receive`` channel.
    """
    task = asyncio.ensure_future(work)
    gone = asyncio.ensure_future(_disconnected(request))
    try:
        done, _ = await asyncio.wait({task, gone}, return_when=asyncio.FIRST_COMPLETED)
    except BaseException:
        task.cancel()
        raise
    finally:
        gone.cancel()
    if task in done:
        return task.result()
    task.cancel()
    # Waits for the cancellation, so the service call is torn down before the handler returns.
    await asyncio.gather(task, return_exceptions=True)
    return None


async def _disconnected(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass


def _passed_through(upstream: httpx.Response) -> Response:
    response = Response(content=upstream.content, status_code=upstream.status_code)
    for name, value in downstream_response_headers(upstream.headers.multi_items()):
        response.headers.append(name, value)
    return response


def _from_cache(cached: CachedResponse) -> Response:
    return Response(
        content=cached.body, status_code=cached.status_code, media_type=cached.media_type
    )


async def _body(request: Request, max_bytes: int) -> bytes | None:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLargeError(f"the request body is larger than {max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLargeError(f"the request body is larger than {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks) or None
