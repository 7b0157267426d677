from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from auth.client_ip import resolve_client_ip
from auth.service import AuthService, UserAdmin
from auth.settings import AuthSettings
from orderhub_common.security import Principal, Role, require_role


def auth_service(request: Request) -> AuthService:
    service: AuthService = request.app.state.auth_service
    return service


def user_admin(request: Request) -> UserAdmin:
    admin: UserAdmin = request.app.state.user_admin
    return admin


def client_ip(request: Request) -> str:
    settings: AuthSettings = request.app.state.settings
    peer = request.client.host if request.client else "unknown"
    return resolve_client_ip(peer, request.headers.get("x-forwarded-for"), settings.trusted_proxies)


AuthServiceDep = Annotated[AuthService, Depends(auth_service)]
UserAdminDep = Annotated[UserAdmin, Depends(user_admin)]
ClientIp = Annotated[str, Depends(client_ip)]
Admin = Annotated[Principal, Depends(require_role(Role.ADMIN))]
