"""The edge's FastAPI dependencies: rate limits and sign-in checks, in the order they apply.

Per-IP limits come first, so even unauthenticated floods are turned away cheaply; then the token
is verified locally with the shared ``JwtVerifier`` (no call to auth); then per-user limits.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials

from gateway.edge import Edge
from gateway.metrics import RATE_LIMITED
from gateway.ratelimit import RATE_LIMIT_STATE, RateLimitDecision
from gateway.routes import Access
from orderhub_common.errors import ForbiddenError, TooManyRequestsError
from orderhub_common.security import Principal, Role, current_principal


def get_edge(request: Request) -> Edge:
    edge: Edge = request.app.state.edge
    return edge


EdgeState = Annotated[Edge, Depends(get_edge)]


def client_ip(request: Request) -> str:
    # uvicorn resolves X-Forwarded-For from trusted proxies into request.client.
    return request.client.host if request.client else "unknown"


async def limit_client_ip(request: Request, edge: EdgeState) -> None:
    decision = await edge.limiter.hit(
        "ip", client_ip(request), edge.settings.rate_limit_per_ip_per_min
    )
    _enforce(request, decision, "ip", "too many requests from this address")


async def limit_user(request: Request, edge: Edge, principal: Principal) -> None:
    decision = await edge.limiter.hit(
        "user", principal.user_id, edge.settings.rate_limit_per_user_per_min
    )
    _enforce(request, decision, "user", "too many requests for this user")


def _enforce(
    request: Request, decision: RateLimitDecision | None, scope: str, message: str
) -> None:
    if decision is None:
        return
    tightest: RateLimitDecision | None = getattr(request.state, RATE_LIMIT_STATE, None)
    if tightest is None or decision.remaining < tightest.remaining:
        setattr(request.state, RATE_LIMIT_STATE, decision)
    if not decision.allowed:
        RATE_LIMITED.labels(scope).inc()
        raise TooManyRequestsError(
            f"{message}, retry in {decision.reset_s}s", retry_after_s=decision.reset_s
        )


def bearer_credentials(token: str | None) -> HTTPAuthorizationCredentials | None:
    return HTTPAuthorizationCredentials(scheme="Bearer", credentials=token) if token else None


def header_credentials(request: Request) -> HTTPAuthorizationCredentials | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return bearer_credentials(token.strip()) if scheme.lower() == "bearer" else None


async def admit(
    request: Request,
    edge: Edge,
    access: Access,
    credentials: HTTPAuthorizationCredentials | None,
) -> Principal | None:
    """Verifies the caller for a route of the given access level, then counts them."""
    if access is Access.PUBLIC:
        return None
    principal = await current_principal(request, credentials)
    await limit_user(request, edge, principal)
    if access is Access.ADMIN and principal.role is not Role.ADMIN:
        raise ForbiddenError("this needs the admin role")
    return principal
