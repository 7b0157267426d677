"""The auth domain: signing in, refreshing, signing out, and managing users."""

from __future__ import annotations

import contextlib

from loguru import logger

from auth.documents import UserDocument
from auth.errors import (
    EmailTakenError,
    InvalidCredentialsError,
    InvalidRefreshTokenError,
    OwnAccessChangeError,
    UserNotFoundError,
)
from auth.passwords import Passwords
from auth.repository import UserRepository
from auth.schemas import (
    LoginResponse,
    RefreshResponse,
    UserCreate,
    UserRead,
    UserSummary,
    UserUpdate,
)
from auth.sessions import RefreshSessions
from auth.throttle import LoginThrottle
from auth.tokens import AccessTokenIssuer
from orderhub_common.errors import UnauthorizedError
from orderhub_common.security import Principal, Role


def user_read(user: UserDocument) -> UserRead:
    return UserRead(
        id=str(user.id),
        email=user.email,
        role=user.role,
        active=user.active,
        created_at=user.created_at,
        updated_at=user.updated_at,
    )


def user_summary(user: UserDocument) -> UserSummary:
    return UserSummary(id=str(user.id), email=user.email, role=user.role)


class AuthService:
    def __init__(
        self,
        *,
        users: UserRepository,
        passwords: Passwords,
        throttle: LoginThrottle,
        sessions: RefreshSessions,
        issuer: AccessTokenIssuer,
    ) -> None:
        self._users = users
        self._passwords = passwords
        self._throttle = throttle
        self._sessions = sessions
        self._issuer = issuer

    async def login(self, email: str, password: str, client_ip: str) -> LoginResponse:
        await self._throttle.begin_attempt(email, client_ip)
        user = await self._users.by_email(email)
        # An unknown email is checked against a dummy hash: it takes as long as a wrong password.
        password_ok = await self._passwords.verify(user.password_hash if user else None, password)
        if user is None or not password_ok or not user.active:
            logger.bind(clientIp=client_ip).info("sign-in refused")
            raise InvalidCredentialsError()
        await self._throttle.succeeded(email, client_ip)
        if self._passwords.needs_rehash(user.password_hash):
            user = await self._users.update(
                user, {"password_hash": await self._passwords.hash(password)}
            )
        access = self._issuer.issue(str(user.id), user.role, user.email)
        return LoginResponse(
            access_token=access.token,
            refresh_token=await self._sessions.start(str(user.id)),
            expires_in=access.expires_in,
            user=user_summary(user),
        )

    async def refresh(self, refresh_token: str) -> RefreshResponse:
        record = await self._sessions.redeem(refresh_token)
        user = await self._users.by_id(record.user_id)
        if user is None or not user.active:
            await self._sessions.revoke(record.family_id)
            raise InvalidRefreshTokenError()
        # The role is read again, so a changed role applies from the next refresh on.
        access = self._issuer.issue(str(user.id), user.role, user.email)
        return RefreshResponse(
            access_token=access.token,
            refresh_token=await self._sessions.continue_family(record),
        )

    async def logout(self, refresh_token: str) -> None:
        await self._sessions.end(refresh_token)

    async def me(self, principal: Principal) -> UserSummary:
        user = await self._users.by_id(principal.user_id)
        if user is None or not user.active:
            raise UnauthorizedError("this account no longer exists or is deactivated")
        return user_summary(user)


class UserAdmin:
    def __init__(self, *, users: UserRepository, passwords: Passwords) -> None:
        self._users = users
        self._passwords = passwords

    async def list(self) -> list[UserRead]:
        return [user_read(user) for user in await self._users.all()]

    async def create(self, new_user: UserCreate) -> UserRead:
        user = await self._users.create(
            email=new_user.email,
            password_hash=await self._passwords.hash(new_user.password),
            role=new_user.role,
        )
        logger.bind(userId=str(user.id), role=user.role).info("user created")
        return user_read(user)

    async def update(self, user_id: str, update: UserUpdate, acting: Principal) -> UserRead:
        user = await self._users.by_id(user_id)
        if user is None:
            raise UserNotFoundError(user_id)
        changes = update.model_dump(exclude_unset=True)
        if user_id == acting.user_id and (
            changes.get("role", Role.ADMIN) != Role.ADMIN or changes.get("active") is False
        ):
            raise OwnAccessChangeError()
        if "password" in changes:
            changes["password_hash"] = await self._passwords.hash(changes.pop("password"))
        user = await self._users.update(user, changes)
        logger.bind(userId=user_id, fields=sorted(update.model_fields_set)).info("user updated")
        return user_read(user)

    async def ensure_bootstrap_user(self, email: str, password: str, role: Role) -> None:
        """Creates the user on first start; later starts leave it as it is (idempotent)."""
        normalized = email.strip().lower()
        if await self._users.by_email(normalized) is not None:
            return
        password_hash = await self._passwords.hash(password)
        # Another replica may create it between the read and the insert: that is success too.
        with contextlib.suppress(EmailTakenError):
            await self._users.create(email=normalized, password_hash=password_hash, role=role)
            logger.info(f"bootstrap {role} user {normalized} created")
