"""Forwarding one API call to the service that owns it, through the order-read cache."""

from __future__ import annotations

from urllib.parse import parse_qsl

import httpx
from fastapi import Request, Response

from gateway.cache import CachedResponse, normalized_query
from gateway.deps import client_ip
from gateway.edge import Edge
from gateway.metrics import CACHE_LOOKUPS
from gateway.routes import RouteMatch
from gateway.upstreams import downstream_response_headers, upstream_request_headers
from orderhub_common.context import request_id_var
from orderhub_common.errors import DomainError
from orderhub_common.security import Principal


class PayloadTooLargeError(DomainError):
    status_code = 413
    code = "payload_too_large"


async def forward(
    request: Request, edge: Edge, route: RouteMatch, principal: Principal | None
) -> Response:
    cache_key = None
    if route.cacheable and principal is not None:
        query = normalized_query(parse_qsl(request.url.query, keep_blank_values=True))
        cache_key = await edge.cache.key_for(principal.role, route.path, query)
    if cache_key is not None:
        cached = await edge.cache.get(cache_key)
        CACHE_LOOKUPS.labels("hit" if cached is not None else "miss").inc()
        if cached is not None:
            return _cached_response(cached)

    upstream_response = await edge.upstreams[route.upstream].request(
        request.method,
        route.path,
        query=request.url.query,
        headers=upstream_request_headers(
            request.headers,
            client_ip=client_ip(request),
            request_id=request_id_var.get(),
            scheme=request.url.scheme,
        ),
        content=await _body(request, edge.settings.max_body_bytes),
    )
    if route.changes_orders and upstream_response.is_success:
        # Before answering: the caller's next read must not find the state before its change.
        await edge.cache.invalidate_orders()
    if cache_key is not None and upstream_response.status_code == 200:
        await edge.cache.put(cache_key, _cacheable(upstream_response))
    response = _passed_through(upstream_response)
    if route.cacheable:
        response.headers["X-Cache"] = "MISS" if cache_key is not None else "BYPASS"
    return response


def _passed_through(upstream: httpx.Response) -> Response:
    response = Response(content=upstream.content, status_code=upstream.status_code)
    for name, value in downstream_response_headers(upstream.headers.multi_items()):
        response.headers.append(name, value)
    return response


def _cacheable(upstream: httpx.Response) -> CachedResponse:
    media_type = upstream.headers.get("content-type", "application/json")
    return CachedResponse(upstream.status_code, media_type, upstream.text)


def _cached_response(cached: CachedResponse) -> Response:
    response = Response(
        content=cached.body, status_code=cached.status_code, media_type=cached.media_type
    )
    response.headers["X-Cache"] = "HIT"
    return response


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
