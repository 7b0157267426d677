"""One pooled HTTP client per service behind the gateway, each behind its own circuit breaker.

A service that does not answer (refused connection, connect or read timeout) opens its breaker
after a few failures; while it is open, that service's routes answer 503 at once instead of
waiting on timeouts, and every other route keeps working. After ``BREAKER_RECOVERY_S`` calls go
through again: the first success closes the breaker, the first failure opens it again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal, cast

import httpx
from circuitbreaker import CircuitBreaker, CircuitBreakerError

from gateway.metrics import UPSTREAM_UNAVAILABLE
from gateway.routes import Upstream
from gateway.settings import GatewaySettings
from orderhub_common.context import REQUEST_ID_HEADER
from orderhub_common.errors import ServiceUnavailableError

# What a service needs from the caller's request; cookies and anything else stay at the edge.
FORWARDED_REQUEST_HEADERS = ("authorization", "content-type", "accept", "accept-language")

# Per-connection headers (RFC 9110 7.6.1) and those the gateway sets itself on the way out.
_DROPPED_RESPONSE_HEADERS = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "content-encoding",
        "date",
        "server",
        REQUEST_ID_HEADER.lower(),
    }
)


def upstream_request_headers(
    incoming: Mapping[str, str],
    *,
    client_ip: str | None,
    request_id: str | None,
    scheme: str,
) -> dict[str, str]:
    """The headers a service receives: the caller's essentials plus the edge's tracing."""
    headers = {name: incoming[name] for name in FORWARDED_REQUEST_HEADERS if name in incoming}
    if request_id:
        headers[REQUEST_ID_HEADER] = request_id
    # The edge decides who the client is (uvicorn honours X-Forwarded-For only from the proxies
    # in FORWARDED_ALLOW_IPS); a caller's own chain is never passed on, or it could pose as
    # any address and dodge the services' per-address limits.
    if client_ip:
        headers["X-Forwarded-For"] = client_ip
    headers["X-Forwarded-Proto"] = scheme
    return headers


def downstream_response_headers(upstream: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The service's response headers the caller sees (its Content-Type, Retry-After, ...)."""
    return [
        (name, value) for name, value in upstream if name.lower() not in _DROPPED_RESPONSE_HEADERS
    ]


CircuitState = Literal["closed", "open", "half_open"]


class UpstreamUnavailableError(ServiceUnavailableError):
    pass


class UpstreamClient:
    def __init__(
        self,
        upstream: Upstream,
        base_url: str,
        settings: GatewaySettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.upstream = upstream
        self.client = httpx.AsyncClient(
            base_url=base_url,
            transport=transport,
            timeout=httpx.Timeout(
                settings.upstream_timeout_s, connect=settings.upstream_connect_timeout_s
            ),
            limits=httpx.Limits(
                max_connections=settings.upstream_max_connections,
                max_keepalive_connections=settings.upstream_max_connections // 2 or 1,
            ),
            follow_redirects=False,
        )
        self.breaker = CircuitBreaker(
            failure_threshold=settings.breaker_failure_threshold,
            recovery_timeout=settings.breaker_recovery_s,
            expected_exception=httpx.TransportError,
            name=f"upstream-{upstream}",
        )
        self._send_guarded = self.breaker.decorate(self._send)

    @property
    def circuit(self) -> CircuitState:
        return cast(CircuitState, self.breaker.state)

    async def request(
        self,
        method: str,
        path: str,
        *,
        query: str = "",
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        timeout_s: float | None = None,
    ) -> httpx.Response:
        """Sends one request; 503 ``service_unavailable`` when the service does not answer."""
        url = f"{path}?{query}" if query else path
        try:
            response: httpx.Response = await self._send_guarded(
                method, url, headers=headers, content=content, timeout_s=timeout_s
            )
        except CircuitBreakerError:
            UPSTREAM_UNAVAILABLE.labels(self.upstream).inc()
            retry_after = max(1, int(self.breaker.open_remaining))
            raise UpstreamUnavailableError(
                f"the {self.upstream} service is unavailable, retry in {retry_after}s",
                headers={"Retry-After": str(retry_after)},
            ) from None
        except httpx.TransportError as exc:
            UPSTREAM_UNAVAILABLE.labels(self.upstream).inc()
            raise UpstreamUnavailableError(
                f"the {self.upstream} service is unavailable ({type(exc).__name__})"
            ) from None
        return response

    async def _send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None,
        content: bytes | None,
        timeout_s: float | None,
    ) -> httpx.Response:
        request = self.client.build_request(
            method,
            url,
            headers=headers,
            content=content,
            timeout=httpx.Timeout(timeout_s) if timeout_s else httpx.USE_CLIENT_DEFAULT,
        )
        return await self.client.send(request)

    async def close(self) -> None:
        await self.client.aclose()


def upstream_clients(
    settings: GatewaySettings,
    transports: Mapping[Upstream, httpx.AsyncBaseTransport] | None = None,
) -> dict[Upstream, UpstreamClient]:
    transports = transports or {}
    return {
        upstream: UpstreamClient(
            upstream, settings.upstream_urls[upstream], settings, transport=transports.get(upstream)
        )
        for upstream in Upstream
    }
