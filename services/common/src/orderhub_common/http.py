"""Request-id middleware: every response carries ``X-Request-ID``, every log line the same id;
and the caller's address, as every handler reads it (``ClientAddress``)."""

from __future__ import annotations

import re
import time
from ipaddress import ip_address
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends
from loguru import logger
from starlette.requests import ClientDisconnect, HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from orderhub_common.context import (
    REQUEST_ID_HEADER,
    correlation_id_var,
    new_id,
    request_id_var,
)
from orderhub_common.errors import error_response

# A caller's id is echoed only if it is a sane token, so it cannot inject into logs or headers.
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
# A request worth a line at INFO: it failed, or it was slow. The rest log at DEBUG, since a line
# per request costs about as much CPU as answering a cached read (the metrics count them all).
_SLOW_REQUEST_MS = 500
_FAILED_STATUS = 400


def client_address(connection: HTTPConnection) -> str | None:
    """The caller's address as ``create_service_app`` resolved it (behind a trusted proxy, the
    address the proxy saw: ``FORWARDED_ALLOW_IPS``); None when the server was told none."""
    return connection.client.host if connection.client else None


async def _client_address(connection: HTTPConnection) -> str | None:
    return client_address(connection)


ClientAddress = Annotated[str | None, Depends(_client_address)]

# The one key that throttles and rate limits count every caller under whose address the server
# was not told.
UNKNOWN_CLIENT = "unknown"


def client_key(connection: HTTPConnection) -> str:
    """The caller's address as throttles and rate limits key it."""
    return client_address(connection) or UNKNOWN_CLIENT


async def _client_key(connection: HTTPConnection) -> str:
    return client_key(connection)


ClientKey = Annotated[str, Depends(_client_key)]


class HttpMiddleware:
    """A pure ASGI middleware of HTTP requests (``handle``); everything else (lifespan) passes.
    Pure ASGI, so it also wraps streaming responses (SSE) without buffering them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


# Set in a request's scope when a trusted proxy relayed it for the client it names.
RELAYED_BY_PROXY = "orderhub.relayed_by_proxy"


class ForwardedClientMiddleware(HttpMiddleware):
    """The client's address behind the trusted proxies (``FORWARDED_ALLOW_IPS``): uvicorn's
    resolver, the nearest ``X-Forwarded-For`` hop that is not itself a trusted proxy. A hop that
    is not an IP address is refused (400) before anything reads it, so markup or a made-up name
    is never counted, logged or stored as an address; a valid one is kept in its one spelling."""

    def __init__(self, app: ASGIApp, *, trusted_proxies: str) -> None:
        super().__init__(app)
        self._resolver = ProxyHeadersMiddleware(self._checked, trusted_hosts=trusted_proxies)  # type: ignore[arg-type]

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["orderhub.peer"] = scope.get("client")
        await self._resolver(scope, receive, send)  # type: ignore[arg-type]

    async def _checked(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if client is not None and client != scope.pop("orderhub.peer", None):
            host, port = client
            try:
                scope["client"] = (str(ip_address(host)), port)
            except ValueError:
                response = error_response(
                    400, "invalid_forwarded_for", "X-Forwarded-For does not name an IP address"
                )
                await response(scope, receive, send)
                return
            scope[RELAYED_BY_PROXY] = True
        await self.app(scope, receive, send)


class RelativeRedirectMiddleware(HttpMiddleware):
    """A redirect the server builds from the request (Starlette's trailing-slash redirect,
    ``/docs/`` -> ``/docs``) names the request's Host: it is sent as a path on this server, so a
    forged Host never sends a caller elsewhere."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        host = _header(scope, b"host")

        async def send_relative(message: Message) -> None:
            if message["type"] == "http.response.start" and 300 <= message["status"] < 400:
                message["headers"] = [
                    (name, _relative(value, host) if name.lower() == b"location" else value)
                    for name, value in message.get("headers", [])
                ]
            await send(message)

        await self.app(scope, receive, send_relative)


def _relative(location: bytes, host: str | None) -> bytes:
    url = urlsplit(location.decode("latin-1"))
    if not url.netloc or url.netloc != host:
        return location
    path = "/" + url.path.lstrip("/")  # never "//elsewhere": a path, not another host
    return (path + (f"?{url.query}" if url.query else "")).encode("latin-1")


class RequestContextMiddleware(HttpMiddleware):
    """Request and correlation ids for the request's work, ``X-Request-ID`` on its answer, and
    its line in the log."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        incoming = _header(scope, REQUEST_ID_HEADER.lower().encode())
        request_id = incoming if incoming and _SAFE_REQUEST_ID.match(incoming) else new_id()
        request_token = request_id_var.set(request_id)
        correlation_token = correlation_id_var.set(request_id)
        started = time.perf_counter()
        status_code = 500

        async def send_with_request_id(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() != REQUEST_ID_HEADER.lower().encode()
                ]
                headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                message["headers"] = headers
            await send(message)

        response_started = False
        client_gone = False

        async def send_tracking_start(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send_with_request_id(message)

        async def receive_tracking_disconnect() -> Message:
            nonlocal client_gone
            message = await receive()
            client_gone = client_gone or message["type"] == "http.disconnect"
            return message

        try:
            await self.app(scope, receive_tracking_disconnect, send_tracking_start)
        except Exception as exc:
            if response_started:
                logger.opt(exception=exc).error("unhandled error")
                raise
            if client_gone or isinstance(exc, ClientDisconnect):
                # Nobody is left to answer, and nothing failed here: a 499 (nginx's "client
                # closed request") in the log and the metrics, never a 500 that pages.
                await _client_closed_request(send_tracking_start)
                return
            # Answer here, inside the request's context, so even a 500 carries its request id.
            logger.opt(exception=exc).error("unhandled error")
            response = error_response(500, "internal_error", "the server failed; please retry")
            await response(scope, receive, send_tracking_start)
        except BaseException:
            # Cancelled (the server let go of a request whose client left): counted as a 499 too,
            # where the metrics outside would otherwise assume a 500.
            if client_gone and not response_started:
                await _client_closed_request(send_tracking_start)
            raise
        finally:
            path = scope.get("path", "")
            duration_ms = round((time.perf_counter() - started) * 1000, 2)
            if path not in _QUIET_PATHS:
                notable = status_code >= _FAILED_STATUS or duration_ms >= _SLOW_REQUEST_MS
                logger.bind(
                    method=scope.get("method"),
                    path=path,
                    status=status_code,
                    durationMs=duration_ms,
                ).log("INFO" if notable else "DEBUG", "request")
            request_id_var.reset(request_token)
            correlation_id_var.reset(correlation_token)


# What the log and the metrics show for a request whose client left before its answer (nginx's).
CLIENT_CLOSED_REQUEST = 499


async def _client_closed_request(send: Send) -> None:
    """Records a 499 on the way out; the server drops it, the connection being gone."""
    await send({"type": "http.response.start", "status": CLIENT_CLOSED_REQUEST, "headers": []})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


class RequestLimitsMiddleware(HttpMiddleware):
    """Every service refuses oversized requests itself, reached through the gateway or not:
    request headers over ``max_header_bytes`` in all (431) and bodies over ``max_body_bytes``
    (413, by their declared length or as they stream in)."""

    def __init__(self, app: ASGIApp, *, max_header_bytes: int, max_body_bytes: int) -> None:
        super().__init__(app)
        self._max_header_bytes = max_header_bytes
        self._max_body_bytes = max_body_bytes

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = scope.get("headers", [])
        if sum(len(name) + len(value) + 4 for name, value in headers) > self._max_header_bytes:
            response = error_response(
                431,
                "headers_too_large",
                f"the request headers are larger than {self._max_header_bytes} bytes",
            )
            await response(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self._max_body_bytes:
            await self._too_large(scope, receive, send)
            return
        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self._max_body_bytes:
                    raise _BodyTooLargeError
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLargeError:
            if response_started:
                raise
            await self._too_large(scope, receive, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            413,
            "payload_too_large",
            f"the request body is larger than {self._max_body_bytes} bytes",
        )
        await response(scope, receive, send)


class _BodyTooLargeError(Exception):
    pass


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None
