"""The auth domain: signing in, refreshing, signing out, and managing users.

Every sign-in (and refused sign-in), sign-out and user change is recorded on the audit trail.
A user's *access version* (``UserDocument.access_version``) moves on every change that must end
their access; it is published to the verifiers (``orderhub_common.revocation``) and bound into
every token and refresh token, so access tokens stop working within one call and sessions end.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from loguru import logger

from auth.documents import UserDocument
from auth.errors import (
    EmailTakenError,
    InvalidCredentialsError,
    InvalidRefreshTokenError,
    LastAdminError,
    NoLongerAdminError,
    NotSessionOwnerError,
    OwnAccessChangeError,
    UserNotFoundError,
)
from auth.passwords import Passwords
from auth.repository import UserRepository
from auth.schemas import (
    LoginResponse,
    RefreshResponse,
    UserCreate,
    UserName,
    UserRead,
    UserSummary,
    UserUpdate,
)
from auth.sessions import RefreshSessions
from auth.throttle import LoginThrottle
from auth.tokens import AccessTokenIssuer
from auth.user_lock import UserChangeLock
from orderhub_common.audit import AuditTrail
from orderhub_common.errors import UnauthorizedError
from orderhub_common.events import AuditOutcome
from orderhub_common.revocation import AccessRevocations
from orderhub_common.security import Principal, Role


def display_name(user: UserDocument) -> str:
    return user.display_name or user.email


def user_read(user: UserDocument) -> UserRead:
    return UserRead(
        id=str(user.id),
        email=user.email,
        role=user.role,
        display_name=display_name(user),
        active=user.active,
        created_at=user.created_at,
        updated_at=user.updated_at,
    )


def user_summary(user: UserDocument) -> UserSummary:
    return UserSummary(
        id=str(user.id), email=user.email, role=user.role, display_name=display_name(user)
    )


class AuthService:
    def __init__(
        self,
        *,
        users: UserRepository,
        passwords: Passwords,
        throttle: LoginThrottle,
        sessions: RefreshSessions,
        issuer: AccessTokenIssuer,
        revocations: AccessRevocations,
        trail: AuditTrail,
    ) -> None:
        self._users = users
        self._passwords = passwords
        self._throttle = throttle
        self._sessions = sessions
        self._issuer = issuer
        self._revocations = revocations
        self._trail = trail

    async def login(self, email: str, password: str, client_ip: str) -> LoginResponse:
        await self._throttle.begin_attempt(email, client_ip)
        user = await self._users.by_email(email)
        # An unknown email is checked against a dummy hash: it takes as long as a wrong password.
        password_ok = await self._passwords.verify(user.password_hash if user else None, password)
        if user is None or not password_ok or not user.active:
            logger.bind(clientIp=client_ip).info("sign-in refused")
            await self._trail.record(
                "user.sign_in_failed",
                actor_id=str(user.id) if user else None,
                actor_email=email,
                target=str(user.id) if user else None,
                outcome=AuditOutcome.FAILED,
                client_address=client_ip,
            )
            await self._throttle.failed(client_ip, account_exists=user is not None)
            raise InvalidCredentialsError()
        await self._throttle.succeeded(email, client_ip)
        if self._passwords.needs_rehash(user.password_hash):
            user = await self._users.update(
                user, {"password_hash": await self._passwords.hash(password)}
            )
        user_id = str(user.id)
        await self._revocations.publish_version(user_id, user.access_version)
        access = self._issuer.issue(
            user_id, user.role, user.email, access_version=user.access_version
        )
        response = LoginResponse(
            access_token=access.token,
            refresh_token=await self._sessions.start(user_id, user.access_version),
            expires_in=access.expires_in,
            user=user_summary(user),
        )
        await self._trail.record(
            "user.signed_in", actor_id=user_id, target=user_id, client_address=client_ip
        )
        return response

    async def refresh(self, refresh_token: str) -> RefreshResponse:
        record = await self._sessions.redeem(refresh_token)
        user = await self._users.by_id(record.user_id)
        # A changed role, state, password or email ends every session of the user.
        if user is None or not user.active or user.access_version != record.access_version:
            await self._sessions.revoke(record.family_id)
            raise InvalidRefreshTokenError()
        await self._revocations.publish_version(record.user_id, user.access_version)
        access = self._issuer.issue(
            str(user.id), user.role, user.email, access_version=user.access_version
        )
        return RefreshResponse(
            access_token=access.token,
            refresh_token=await self._sessions.continue_family(record),
            expires_in=access.expires_in,
        )

    async def logout(
        self, refresh_token: str | None, principal: Principal, client_ip: str | None
    ) -> None:
        """Ends the session ``refresh_token`` opened (only the caller's own) and the access token
        the caller signed out with."""
        if refresh_token is not None:
            owner = await self._sessions.owner(refresh_token)
            if owner is not None and owner != principal.user_id:
                raise NotSessionOwnerError()
            await self._sessions.end(refresh_token)
        await self._revocations.revoke_token(principal)
        await self._trail.record(
            "user.signed_out", actor=principal, target=principal.user_id, client_address=client_ip
        )

    async def me(self, principal: Principal) -> UserSummary:
        user = await self._users.by_id(principal.user_id)
        if user is None or not user.active or user.access_version != principal.token_version:
            raise UnauthorizedError("this account no longer exists or is deactivated")
        return user_summary(user)


# What each changed field is recorded as; every one of them ends the user's access.
_CHANGE_ACTIONS = {
    "role": "user.role_changed",
    "password": "user.password_changed",
    "email": "user.email_changed",
    "display_name": "user.renamed",
}


class UserAdmin:
    def __init__(
        self,
        *,
        users: UserRepository,
        passwords: Passwords,
        lock: UserChangeLock,
        revocations: AccessRevocations,
        trail: AuditTrail,
    ) -> None:
        self._users = users
        self._passwords = passwords
        self._lock = lock
        self._revocations = revocations
        self._trail = trail

    async def _acting_admin(self, acting: Principal) -> UserDocument:
        """The acting user as the store has them now: still an active admin, or 403."""
        user = await self._users.by_id(acting.user_id)
        if (
            user is None
            or not user.active
            or user.role != Role.ADMIN
            or user.access_version != acting.token_version
        ):
            raise NoLongerAdminError()
        return user

    async def list(self, acting: Principal) -> list[UserRead]:
        await self._acting_admin(acting)
        return [user_read(user) for user in await self._users.all()]

    async def names(self) -> Sequence[UserName]:
        """Every user's display name by id, for anyone signed in to see who did what: names
        only (no email, role or state)."""
        return [
            UserName(id=str(user.id), display_name=display_name(user))
            for user in await self._users.all()
        ]

    async def create(
        self, new_user: UserCreate, acting: Principal, client_ip: str | None = None
    ) -> UserRead:
        # Hashed first (the slow part, outside the lock); then the acting admin's standing is
        # read and the user written under the lock every role and state change takes, so an
        # admin demoted or deactivated meanwhile creates no one.
        password_hash = await self._passwords.hash(new_user.password)
        async with self._lock.locked():
            await self._acting_admin(acting)
            user = await self._users.create(
                email=new_user.email,
                password_hash=password_hash,
                role=new_user.role,
                display_name=new_user.display_name,
            )
        logger.bind(userId=str(user.id), role=user.role).info("user created")
        await self._trail.record(
            "user.invited",
            actor=acting,
            target=str(user.id),
            client_address=client_ip,
            details={"role": user.role.value},
        )
        return user_read(user)

    async def update(
        self, user_id: str, update: UserUpdate, acting: Principal, client_ip: str | None = None
    ) -> UserRead:
        changes: dict[str, Any] = update.model_dump(exclude_unset=True, by_alias=False)
        if user_id == acting.user_id and (
            changes.get("role", Role.ADMIN) != Role.ADMIN or changes.get("active") is False
        ):
            raise OwnAccessChangeError()
        if "password" in changes:
            changes["password_hash"] = await self._passwords.hash(changes.pop("password"))
        # One change at a time: the acting admin's standing and the admins left are read, and
        # the change written, with no other change in between.
        async with self._lock.locked():
            await self._acting_admin(acting)
            user = await self._users.by_id(user_id)
            if user is None:
                raise UserNotFoundError(user_id)
            changes = {
                name: value for name, value in changes.items() if getattr(user, name) != value
            }
            if not changes:
                return user_read(user)
            demotes = (
                changes.get("role", Role.ADMIN) != Role.ADMIN or changes.get("active") is False
            )
            if (
                demotes
                and user.role == Role.ADMIN
                and user.active
                and not (await self._users.active_admin_ids()) - {user_id}
            ):
                raise LastAdminError()
            ends_access = bool({"role", "email", "password_hash"} & changes.keys()) or (
                changes.get("active") is False
            )
            if ends_access:
                changes["access_version"] = user.access_version + 1
            user = await self._users.update(user, changes)
        if ends_access:
            await self._revocations.publish_version(user_id, user.access_version)
        logger.bind(userId=user_id, fields=sorted(update.model_fields_set)).info("user updated")
        await self._record_changes(user, update, acting, client_ip)
        return user_read(user)

    async def _record_changes(
        self, user: UserDocument, update: UserUpdate, acting: Principal, client_ip: str | None
    ) -> None:
        target = str(user.id)
        for field in sorted(update.model_fields_set):
            if field == "active":
                action = "user.reactivated" if user.active else "user.deactivated"
                details: dict[str, Any] = {}
            else:
                action = _CHANGE_ACTIONS[field]
                details = {"role": user.role.value} if field == "role" else {}
                if field == "display_name":
                    details = {"displayName": display_name(user)}
            await self._trail.record(
                action, actor=acting, target=target, client_address=client_ip, details=details
            )

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
