from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status

from auth.deps import AuthServiceDep, SessionCookiesDep
from auth.errors import InvalidRefreshTokenError
from auth.schemas import LoginRequest, LoginResponse, MeResponse, RefreshRequest, RefreshResponse
from orderhub_common.http import ClientKey
from orderhub_common.security import CurrentPrincipal, Principal, signed_principal

router = APIRouter(tags=["auth"])


@router.post("/auth/login", response_model=LoginResponse, operation_id="login")
async def login(
    body: LoginRequest,
    service: AuthServiceDep,
    ip: ClientKey,
    cookies: SessionCookiesDep,
    response: Response,
) -> LoginResponse:
    """Signs in with email and password; 429 with Retry-After after repeated failures. Also sets
    the session cookie (refresh token, HttpOnly) and its CSRF cookie, for the SPA."""
    signed_in = await service.login(body.email, body.password, ip)
    cookies.set(response, signed_in.refresh_token)
    return signed_in


@router.post("/auth/refresh", response_model=RefreshResponse, operation_id="refresh")
async def refresh(
    request: Request,
    service: AuthServiceDep,
    cookies: SessionCookiesDep,
    response: Response,
    body: RefreshRequest | None = None,
) -> RefreshResponse:
    """Swaps a refresh token for a new pair; a reused token revokes its whole family. The token
    comes from the body, or from the session cookie with the `X-CSRF-Token` header."""
    token = cookies.refresh_token(request, body.refresh_token if body else None)
    if token is None:
        raise InvalidRefreshTokenError()
    renewed = await service.refresh(token)
    cookies.set(response, renewed.refresh_token)
    return renewed


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, operation_id="logout")
async def logout(
    request: Request,
    service: AuthServiceDep,
    cookies: SessionCookiesDep,
    # Signing out only ends access, so a token already revoked (signed out before, or its user
    # changed since) may still sign out: a repeated sign-out is a 204 as the first was.
    principal: Annotated[Principal, Depends(signed_principal)],
    ip: ClientKey,
    body: RefreshRequest | None = None,
) -> Response:
    """Ends the session: that refresh token (and its family) and this access token no longer
    work. Only the caller's own session (403 for another user's refresh token)."""
    token = cookies.refresh_token(request, body.refresh_token if body else None)
    await service.logout(token, principal, ip)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    cookies.clear(response)
    return response


@router.get("/auth/me", response_model=MeResponse, operation_id="me")
async def me(principal: CurrentPrincipal, service: AuthServiceDep) -> MeResponse:
    return MeResponse(user=await service.me(principal))


@router.get("/.well-known/jwks.json", tags=["keys"], operation_id="jwks")
async def jwks(request: Request) -> dict[str, Any]:
    """The public keys access tokens are signed with (all keys live during a rotation)."""
    keys = request.app.state.signing_keys.keys
    return keys.public_jwks()
