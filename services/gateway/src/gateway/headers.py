"""Security headers on every response the gateway sends (the SPA, the API, errors, docs)."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import Message, Receive, Scope, Send

from gateway.ratelimit import RATE_LIMIT_DECISION, RateLimitDecision
from orderhub_common.http import HttpMiddleware

# The SPA loads only its own bundle, styles included (React's style props are DOM properties,
# which CSP does not govern, so no 'unsafe-inline' is needed).
SPA_CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS = {
    "Content-Security-Policy": SPA_CSP,
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class SecurityHeadersMiddleware(HttpMiddleware):
    """Pure ASGI, so streamed responses (SSE) are not buffered.

    A response that sets its own Content-Security-Policy (the API docs page) keeps it. API
    answers are never stored by browsers or proxies (``Cache-Control: no-store``: they carry
    customers' data and tokens) unless they say otherwise.
    """

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        api = scope.get("path", "").startswith("/api/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if api:
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RateLimitHeadersMiddleware(HttpMiddleware):
    """Tells every rate-limited caller where it stands, on errors and streams too.

    The edge's dependencies leave their tightest decision in the request state.
    """

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                decision = scope.get("state", {}).get(RATE_LIMIT_DECISION)
                if isinstance(decision, RateLimitDecision):
                    MutableHeaders(scope=message).update(decision.headers())
            await send(message)

        await self.app(scope, receive, send_with_headers)
