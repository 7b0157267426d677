"""``GET /api/health``: how the services behind the gateway are doing."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import APIRouter, Request

from gateway.deps import EdgeDep, admit, header_credentials
from gateway.routes import Access
from gateway.schemas import ApiError, ApiHealth, UpstreamHealth
from gateway.upstreams import UpstreamClient, UpstreamUnavailableError

router = APIRouter(tags=["health"])

_PROBE_TIMEOUT_S = 2.0


@router.get(
    "/api/health",
    summary="Health of the services behind the gateway",
    description="Informational: a service being down never makes the gateway itself unready.",
    responses={401: {"model": ApiError}, 429: {"model": ApiError}},
)
async def api_health(request: Request, edge: EdgeDep) -> ApiHealth:
    await admit(request, edge, Access.SIGNED_IN, header_credentials(request))
    names = list(edge.upstreams)
    results = await asyncio.gather(*(_probe(edge.upstreams[name]) for name in names))
    services = {str(name): result for name, result in zip(names, results, strict=True)}
    healthy = all(result.status == "ok" and not result.detail for result in services.values())
    return ApiHealth(status="ok" if healthy else "degraded", services=services)


async def _probe(client: UpstreamClient) -> UpstreamHealth:
    try:
        response = await client.request("GET", "/readyz", timeout_s=_PROBE_TIMEOUT_S)
    except UpstreamUnavailableError as exc:
        return UpstreamHealth(status="down", circuit=client.circuit, detail=exc.message)
    if response.status_code != 200:
        answered = f"/readyz answered {response.status_code}"
        return UpstreamHealth(status="down", circuit=client.circuit, detail=answered)
    # Ready in a documented degraded mode (a degradable dependency away): serving, but said.
    degraded = _degraded_dependencies(response)
    detail = f"degraded: {', '.join(degraded)} not answering" if degraded else None
    return UpstreamHealth(status="ok", circuit=client.circuit, detail=detail)


def _degraded_dependencies(response: httpx.Response) -> list[str]:
    try:
        body = response.json()
    except ValueError:
        return []
    degraded = body.get("degraded") if isinstance(body, dict) else None
    return sorted(str(name) for name in degraded) if isinstance(degraded, dict) else []
