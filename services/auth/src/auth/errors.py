"""The auth service's domain errors, with the contract's codes."""

from __future__ import annotations

from orderhub_common.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    TooManyRequestsError,
    UnauthorizedError,
)


class InvalidCredentialsError(UnauthorizedError):
    code = "invalid_credentials"

    def __init__(self) -> None:
        # One message for an unknown email, a wrong password and a deactivated user.
        super().__init__("email or password is wrong")


class InvalidRefreshTokenError(UnauthorizedError):
    code = "invalid_refresh_token"

    def __init__(self) -> None:
        super().__init__("the refresh token is not valid; sign in again")


class TooManyLoginAttemptsError(TooManyRequestsError):
    code = "too_many_attempts"

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(
            f"too many failed sign-ins; try again in {retry_after_s} s",
            retry_after_s=retry_after_s,
        )


class UserNotFoundError(NotFoundError):
    code = "user_not_found"

    def __init__(self, user_id: str) -> None:
        super().__init__(f"no user with id {user_id!r}")


class EmailTakenError(ConflictError):
    code = "email_taken"

    def __init__(self, email: str) -> None:
        super().__init__(f"a user with email {email!r} already exists")


class OwnAccessChangeError(ConflictError):
    code = "cannot_change_own_access"

    def __init__(self) -> None:
        super().__init__("admins cannot remove their own admin role or deactivate themselves")


class LastAdminError(ConflictError):
    code = "last_admin"

    def __init__(self) -> None:
        super().__init__("this change would leave no active admin")


class NotSessionOwnerError(ForbiddenError):
    code = "forbidden"

    def __init__(self) -> None:
        super().__init__("that refresh token belongs to another user's session")


class CsrfError(ForbiddenError):
    code = "csrf_failed"

    def __init__(self) -> None:
        super().__init__("the X-CSRF-Token header does not match this session")


class NoLongerAdminError(ForbiddenError):
    code = "forbidden"

    def __init__(self) -> None:
        super().__init__("your account is no longer an active admin")
