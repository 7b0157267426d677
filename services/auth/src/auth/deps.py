from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from auth.cookies import SessionCookies
from auth.service import AuthService, UserAdmin
from orderhub_common.security import Principal, Role, require_role


async def auth_service(request: Request) -> AuthService:
    service: AuthService = request.app.state.auth_service
    return service


async def user_admin(request: Request) -> UserAdmin:
    admin: UserAdmin = request.app.state.user_admin
    return admin


async def session_cookies(request: Request) -> SessionCookies:
    cookies: SessionCookies = request.app.state.session_cookies
    return cookies


AuthServiceDep = Annotated[AuthService, Depends(auth_service)]
UserAdminDep = Annotated[UserAdmin, Depends(user_admin)]
SessionCookiesDep = Annotated[SessionCookies, Depends(session_cookies)]
Admin = Annotated[Principal, Depends(require_role(Role.ADMIN))]
