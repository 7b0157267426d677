"""Every ``/api`` path the services answer, behind the edge's checks."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from gateway.deps import EdgeState, admit, header_credentials, limit_client_ip
from gateway.proxy import forward
from gateway.routes import resolve
from orderhub_common.errors import NotFoundError

router = APIRouter(dependencies=[Depends(limit_client_ip)])

_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]


@router.api_route("/api/{path:path}", methods=_METHODS, include_in_schema=False)
async def proxied(path: str, request: Request, edge: EdgeState) -> Response:
    route = resolve(request.method, path)
    if route is None:
        raise NotFoundError(f"no API route for {request.method} /api/{path}")
    principal = await admit(request, edge, route.access, header_credentials(request))
    return await forward(request, edge, route, principal)
