"""Every ``/api`` path the services answer, behind the edge's checks."""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response

from gateway.cache import CacheSlot, normalized_query
from gateway.deps import EdgeDep, admit, header_credentials
from gateway.proxy import forward
from gateway.routes import resolve
from orderhub_common.errors import NotFoundError
from orderhub_common.security import Principal

router = APIRouter()

_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]


@router.api_route("/api/{path:path}", methods=_METHODS, include_in_schema=False)
async def proxied(path: str, request: Request, edge: EdgeDep) -> Response:
    route = resolve(request.method, path)
    if route is None:
        raise NotFoundError(f"no API route for {request.method} /api/{path}")

    def cache_slot(principal: Principal) -> CacheSlot:
        query = normalized_query(parse_qsl(request.url.query, keep_blank_values=True))
        # "Cache-Control: no-cache" (HTTP's own words): the caller wants an answer from now,
        # such as the SPA's list right after "show the new orders".
        revalidate = "no-cache" in request.headers.get("cache-control", "").lower()
        return edge.cache.slot(
            principal.role, route.path, query, reader=principal.user_id, revalidate=revalidate
        )

    admission = await admit(
        request,
        edge,
        route.access,
        header_credentials(request),
        cache_slot=cache_slot if route.cacheable else None,
    )
    return await forward(request, edge, route, admission)
