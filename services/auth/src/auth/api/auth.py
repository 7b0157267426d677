from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, status

from auth.deps import AuthServiceDep, ClientIp
from auth.schemas import LoginRequest, LoginResponse, MeResponse, RefreshRequest, RefreshResponse
from orderhub_common.security import CurrentPrincipal

router = APIRouter(tags=["auth"])


@router.post("/auth/login", response_model=LoginResponse, operation_id="login")
async def login(body: LoginRequest, service: AuthServiceDep, ip: ClientIp) -> LoginResponse:
    """Signs in with email and password; 429 with Retry-After after repeated failures."""
    return await service.login(body.email, body.password, ip)


@router.post("/auth/refresh", response_model=RefreshResponse, operation_id="refresh")
async def refresh(body: RefreshRequest, service: AuthServiceDep) -> RefreshResponse:
    """Swaps a refresh token for a new pair; a reused token revokes its whole family."""
    return await service.refresh(body.refresh_token)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, operation_id="logout")
async def logout(body: RefreshRequest, service: AuthServiceDep, _: CurrentPrincipal) -> Response:
    """Ends the session: that refresh token (and its family) no longer works."""
    await service.logout(body.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/auth/me", response_model=MeResponse, operation_id="me")
async def me(principal: CurrentPrincipal, service: AuthServiceDep) -> MeResponse:
    return MeResponse(user=await service.me(principal))


@router.get("/.well-known/jwks.json", tags=["keys"], operation_id="jwks")
async def jwks(request: Request) -> dict[str, Any]:
    """The public keys access tokens are signed with (all keys live during a rotation)."""
    keys = request.app.state.signing_keys.keys
    return keys.public_jwks()
