"""The one error model of CONTRACT.md: ``{"error": {"code", "message", "requestId"}}``.

Domain code raises ``DomainError`` subclasses; ``install_error_handlers`` is the only place that
turns them (and framework errors) into HTTP responses. It also holds the one rule for a store
that does not answer (``STORE_OUTAGES``): that is the service's outage, not the caller's error,
so it is 503 ``service_unavailable`` with ``Retry-After``, never a 500.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from loguru import logger
from pymongo.errors import ConnectionFailure as MongoConnectionFailure
from pymongo.errors import OperationFailure as MongoOperationFailure
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from orderhub_common.context import request_id_var


class DomainError(Exception):
    """An expected failure with a stable machine-readable code."""

    status_code: int = HTTPStatus.BAD_REQUEST
    code: str = "bad_request"

    def __init__(
        self, message: str, *, details: Any = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.headers = headers


class NotFoundError(DomainError):
    status_code = HTTPStatus.NOT_FOUND
    code = "not_found"


class ConflictError(DomainError):
    status_code = HTTPStatus.CONFLICT
    code = "conflict"


class UnauthorizedError(DomainError):
    status_code = HTTPStatus.UNAUTHORIZED
    code = "unauthorized"


class ForbiddenError(DomainError):
    status_code = HTTPStatus.FORBIDDEN
    code = "forbidden"


class TooManyRequestsError(DomainError):
    status_code = HTTPStatus.TOO_MANY_REQUESTS
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message, headers={"Retry-After": str(max(1, retry_after_s))})


class ServiceUnavailableError(DomainError):
    status_code = HTTPStatus.SERVICE_UNAVAILABLE
    code = "service_unavailable"


# Seconds a caller is asked to wait when a store does not answer: long enough for a restart or a
# failover to finish, short enough that nobody gives up.
STORE_OUTAGE_RETRY_AFTER_S = 5


def _store_outages() -> tuple[type[Exception], ...]:
    """Exceptions meaning "a store did not answer", for every store client a service may use.

    MongoDB: ``ConnectionFailure`` (also ``ServerSelectionTimeoutError``, ``AutoReconnect``,
    ``NetworkTimeout``). Redis: its ``ConnectionError`` and ``TimeoutError``. The builtin
    ``ConnectionError`` (refused or reset connections, which asyncpg raises as they are).
    PostgreSQL, where SQLAlchemy or asyncpg is installed: SQLAlchemy's pool ``TimeoutError`` and
    asyncpg's connection errors; SQLAlchemy's ``DBAPIError`` is handled too, but only when it
    says the connection was lost (``connection_invalidated``).
    """
    outages: list[type[Exception]] = [
        MongoConnectionFailure,
        # Only when it says the store's disk is full (``store_out_of_space``).
        MongoOperationFailure,
        RedisConnectionError,
        RedisTimeoutError,
        ConnectionError,
    ]
    with contextlib.suppress(ImportError):
        from sqlalchemy.exc import DBAPIError
        from sqlalchemy.exc import TimeoutError as PoolTimeoutError

        outages += [DBAPIError, PoolTimeoutError]
    with contextlib.suppress(ImportError):
        from asyncpg.exceptions import (
            CannotConnectNowError,
            PostgresConnectionError,
            TooManyConnectionsError,
        )

        outages += [PostgresConnectionError, CannotConnectNowError, TooManyConnectionsError]
    return tuple(outages)


STORE_OUTAGES = _store_outages()


# How a full disk shows: MongoDB's OutOfDiskSpace (14031) and ENOSPC text; FerretDB passes on
# SQLite's SQLITE_FULL ("database or disk is full").
_OUT_OF_SPACE_CODES = frozenset({14031})
_OUT_OF_SPACE_TEXTS = ("database or disk is full", "no space left on device", "out of disk space")


def store_out_of_space(exc: BaseException) -> bool:
    """True if ``exc`` is a MongoDB write refused because the store's disk is full: nothing was
    written, and the same write succeeds once space is freed (an outage, not a bad request)."""
    if not isinstance(exc, MongoOperationFailure):
        return False
    text = str(exc).lower()
    return exc.code in _OUT_OF_SPACE_CODES or any(t in text for t in _OUT_OF_SPACE_TEXTS)


def is_store_outage(exc: BaseException) -> bool:
    """True if ``exc`` says a store did not answer (see ``STORE_OUTAGES``), or that its disk is
    full."""
    if not isinstance(exc, STORE_OUTAGES):
        return False
    if isinstance(exc, MongoOperationFailure):
        return store_out_of_space(exc)
    # A DBAPIError is also a constraint violation or a bad statement: only a lost connection counts.
    invalidated = getattr(exc, "connection_invalidated", None)
    return invalidated is None or bool(invalidated)


_CODES_BY_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    503: "service_unavailable",
}


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message, "requestId": request_id_var.get()}
    if details is not None:
        error["details"] = details
    return {"error": error}


def error_response(
    status_code: int,
    code: str,
    message: str,
    *,
    details: Any = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        error_body(code, message, details), status_code=status_code, headers=headers
    )


def _field_name(loc: tuple[Any, ...]) -> str:
    # ("query", "limit") -> "limit"; ("body", "customer", "name") -> "customer.name"
    parts = [str(part) for part in loc[1:]] if len(loc) > 1 else [str(p) for p in loc]
    return ".".join(parts) or "body"


def validation_details(exc: RequestValidationError) -> list[dict[str, str]]:
    return [
        {"field": _field_name(tuple(err.get("loc", ()))), "message": err.get("msg", "invalid")}
        for err in exc.errors()
    ]


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain_error(_: Request, exc: DomainError) -> JSONResponse:
        return error_response(
            exc.status_code, exc.code, exc.message, details=exc.details, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = validation_details(exc)
        fields = ", ".join(sorted({d["field"] for d in details}))
        return error_response(
            422, "validation_error", f"invalid request: {fields}", details=details
        )

    async def _store_outage(_: Request, exc: Exception) -> JSONResponse:
        if not is_store_outage(exc):
            raise exc  # not an outage: the request middleware answers it as a 500
        logger.warning(f"a store is not answering: {exc!r}")
        message = (
            "the store is out of disk space: nothing was written; try again once it has room"
            if store_out_of_space(exc)
            else "a store this service needs is not answering; try again shortly"
        )
        return error_response(
            503,
            "service_unavailable",
            message,
            headers={"Retry-After": str(STORE_OUTAGE_RETRY_AFTER_S)},
        )

    for outage in STORE_OUTAGES:
        app.add_exception_handler(outage, _store_outage)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _CODES_BY_STATUS.get(exc.status_code, "http_error")
        message = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        return error_response(exc.status_code, code, message, headers=exc.headers)
