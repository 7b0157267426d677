"""One pooled HTTP client per service behind the gateway, each with its own limits and breaker.

- **Adaptive concurrency** (``gateway.concurrency``): at most as many calls to a service at once
  as its limit, which follows the latency the service answers with, between
  ``GATEWAY_UPSTREAM_MIN_IN_FLIGHT`` and ``GATEWAY_<SERVICE>_MAX_IN_FLIGHT`` (its connection pool
  is the maximum's size, so nothing queues inside the pool). A call beyond the limit queues
  while its expected wait keeps it within ``GATEWAY_UPSTREAM_LATENCY_TARGET_S`` (auth's own:
  ``GATEWAY_AUTH_LATENCY_TARGET_S``), for at most
  ``GATEWAY_UPSTREAM_QUEUE_TIMEOUT_S``; otherwise it is a fast 503 ``service_unavailable`` with
  ``Retry-After``: a saturated service gets no growing backlog of calls whose callers have long
  given up, and recovers as soon as the load ends. Each service has its own slots, so a flood of
  order reads never starves sign-in. The time a call queued and the time the service took are
  exported per service (``gateway_upstream_queue_seconds``, ``gateway_upstream_seconds``).
- **aiohttp under httpx's types**: calls go through ``httpx_aiohttp``'s transport, so the gateway
  and its tests speak ``httpx.Request``/``httpx.Response`` while aiohttp's C parser does the
  work. Forwarding a 3 kB answer through httpx's own transport (h11 and anyio in Python) cost
  1.0 to 1.1 ms of CPU a call at 150 calls a second on the 2-core bench machine; through
  aiohttp, 0.6 to 0.7 ms. As HTTP allows (RFC 9112, 9.3.1), aiohttp sends a GET, PUT or DELETE
  once more, on a new connection, when the connection it went out on was lost: a service's
  closing of an idle connection then costs the caller nothing. A DELETE the service had done
  before the loss is then answered as its second attempt is (404).
- **Short, explicit timeouts**: ``UPSTREAM_CONNECT_TIMEOUT_S`` to connect (and to get a pooled
  connection), ``UPSTREAM_TIMEOUT_S`` to send and to read the answer. aiohttp times connecting
  and reading only: a call whose request has not left, and whose answer has not begun, within
  the timeouts together is given up (a service that stopped reading its requests).
- **Circuit breaker**: a service that does not answer (refused connection, timeout) opens its
  breaker after ``GATEWAY_BREAKER_FAILURE_THRESHOLD`` failures in a row; while it is open, that
  service's routes answer 503 at once, and every other route keeps working. After
  ``GATEWAY_BREAKER_RECOVERY_S`` calls go through again: the first success closes it, the first
  failure opens it again. Calls turned away for want of a slot are not failures of the service
  and never open it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable, Iterator, Mapping

import aiohttp
import httpx
from circuitbreaker import CircuitBreaker, CircuitBreakerError
from httpx_aiohttp import AiohttpTransport

from gateway.concurrency import AimdLimit, UpstreamSlots
from gateway.metrics import (
    UPSTREAM_CIRCUIT,
    UPSTREAM_CIRCUIT_OPENED,
    UPSTREAM_LIMIT,
    UPSTREAM_QUEUE_SECONDS,
    UPSTREAM_SECONDS,
    UPSTREAM_SHED,
    UPSTREAM_UNAVAILABLE,
)
from gateway.routes import Upstream
from gateway.settings import GatewaySettings
from orderhub_common.app import KEEP_ALIVE_S
from orderhub_common.circuits import CircuitGauges, CircuitState
from orderhub_common.context import REQUEST_ID_HEADER
from orderhub_common.errors import ServiceUnavailableError

# What a service needs from the caller's request; cookies and anything else stay at the edge.
FORWARDED_REQUEST_HEADERS = ("authorization", "content-type", "accept", "accept-language")
# Auth alone also gets the SPA's session cookie and its CSRF header (refresh and sign-out).
AUTH_SESSION_HEADERS = ("cookie", "x-csrf-token")
# Ingest's Shopify webhooks alone also get Shopify's signature, delivery id and topic.
SHOPIFY_WEBHOOK_HEADERS = (
    "x-shopify-hmac-sha256",
    "x-shopify-webhook-id",
    "x-shopify-topic",
    "x-shopify-shop-domain",
    "x-shopify-api-version",
)

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
    session: bool = False,
    webhook: bool = False,
) -> dict[str, str]:
    """The headers a service receives: the caller's essentials plus the edge's tracing (and,
    with ``session``, the caller's session cookie and CSRF header; with ``webhook``, Shopify's
    webhook headers)."""
    names = (
        FORWARDED_REQUEST_HEADERS
        + (AUTH_SESSION_HEADERS if session else ())
        + (SHOPIFY_WEBHOOK_HEADERS if webhook else ())
    )
    headers = {name: incoming[name] for name in names if name in incoming}
    if request_id:
        headers[REQUEST_ID_HEADER] = request_id
    # The edge decides who the client is (uvicorn honours X-Forwarded-For only from the proxies
    # in FORWARDED_ALLOW_IPS); a caller's own chain is never passed on, or it could pose as
    # any address in the services' logs and audit records.
    if client_ip:
        headers["X-Forwarded-For"] = client_ip
    headers["X-Forwarded-Proto"] = scheme
    return headers


def downstream_response_headers(upstream: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The service's response headers the caller sees (its Content-Type, Retry-After, ...)."""
    return [
        (name, value) for name, value in upstream if name.lower() not in _DROPPED_RESPONSE_HEADERS
    ]


# How soon a caller turned away for want of a slot, or by a service that did not answer, may
# try again.
_SATURATED_RETRY_AFTER_S = "1"


class UpstreamUnavailableError(ServiceUnavailableError):
    pass


@contextlib.contextmanager
def _as_transport_errors(request: httpx.Request) -> Iterator[None]:
    """aiohttp's failures that ``httpx_aiohttp`` leaves untranslated (a malformed answer, for
    one) are the service's failures too: the breaker counts them, the caller gets a 503.

    ``httpx_aiohttp`` also calls every failed connection a ``ConnectTimeout``: here a refused
    one is a ``ConnectError`` and one lost after the call went out a ``ReadError``, so the 503
    and the logs say what happened."""
    try:
        yield
    except httpx.ConnectTimeout as exc:
        failure = exc.__cause__
        if isinstance(failure, aiohttp.ServerTimeoutError):
            raise
        if isinstance(failure, aiohttp.ClientConnectorError):
            named: type[httpx.TransportError] = httpx.ConnectError
        elif isinstance(failure, (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)):
            named = httpx.ReadError
        else:
            raise
        raise named(f"{type(failure).__name__}: {failure}", request=request) from failure
    except aiohttp.ClientError as exc:
        raise httpx.RemoteProtocolError(f"{type(exc).__name__}: {exc}", request=request) from exc


def _upstream_session(max_connections: int) -> aiohttp.ClientSession:
    """The pooled aiohttp session behind one service's transport (made on its first call, in
    the running loop)."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(
            limit=max_connections,
            # Closed by the gateway before the service would close it: a call never goes out on
            # a connection the service is closing at that moment.
            keepalive_timeout=KEEP_ALIVE_S - 1,
        ),
        # One caller's cookies must never ride along with the next caller's call.
        cookie_jar=aiohttp.DummyCookieJar(),
        # A service gets the headers the gateway chose (upstream_request_headers), none of
        # aiohttp's defaults: not its Accept-Encoding, which would ask the service to compress
        # for a reader next door, nor a Content-Type the caller did not send.
        skip_auto_headers=("Accept", "Accept-Encoding", "Content-Type", "User-Agent"),
    )


class UpstreamClient:
    def __init__(
        self,
        upstream: Upstream,
        base_url: str,
        settings: GatewaySettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.upstream = upstream
        self._clock = clock
        self._circuit_gauges = CircuitGauges(upstream, UPSTREAM_CIRCUIT, UPSTREAM_CIRCUIT_OPENED)
        max_in_flight = settings.upstream_max_in_flight[upstream]
        self.slots = UpstreamSlots(
            AimdLimit(
                minimum=settings.upstream_min_in_flight,
                maximum=max_in_flight,
                target_s=settings.upstream_latency_targets_s[upstream],
            ),
            queue_timeout_s=settings.upstream_queue_timeout_s,
        )
        self._queued = UPSTREAM_QUEUE_SECONDS.labels(upstream)
        self._answered = UPSTREAM_SECONDS.labels(upstream)
        self._limit_gauge = UPSTREAM_LIMIT.labels(upstream)
        self._limit_gauge.set(self.slots.limit.limit)
        self._base_url = base_url.rstrip("/")
        # The transport alone, without httpx.AsyncClient: the client's redirect, auth, cookie
        # and event-hook layers cost a third of each call here. The pool is as large as the
        # calls allowed in flight.
        self._transport = transport or AiohttpTransport(
            client=lambda: _upstream_session(max_in_flight)
        )
        self._timeouts = httpx.Timeout(
            connect=settings.upstream_connect_timeout_s,
            read=settings.upstream_timeout_s,
            write=settings.upstream_timeout_s,
            pool=settings.upstream_connect_timeout_s,
        ).as_dict()
        self.breaker = CircuitBreaker(
            failure_threshold=settings.breaker_failure_threshold,
            recovery_timeout=settings.breaker_recovery_s,
            expected_exception=httpx.TransportError,
            name=f"upstream-{upstream}",
        )
        self._send_guarded = self.breaker.decorate(self._send)
        self._closed = False
        self._export_circuit()

    @property
    def circuit(self) -> CircuitState:
        return CircuitState(self.breaker.state)

    async def request(
        self,
        method: str,
        path: str,
        *,
        query: str = "",
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        timeout_s: float | None = None,
        stream: bool = False,
    ) -> httpx.Response:
        """Sends one request; 503 ``service_unavailable`` when the service does not answer, or
        when it already has as many calls in flight as it may. With ``stream`` the body is not
        read: the caller reads it (``aiter_bytes``) and closes the response."""
        if self._closed:
            # A call outliving the gateway's shutdown (a late cache fill) finds no pool left.
            raise UpstreamUnavailableError(
                "the gateway is stopping; retry in a second",
                headers={"Retry-After": _SATURATED_RETRY_AFTER_S},
            )
        arrived = time.perf_counter()
        took_slot = await self.slots.take()
        sent = time.perf_counter()
        self._queued.observe(sent - arrived)
        if not took_slot:
            UPSTREAM_SHED.labels(self.upstream).inc()
            raise UpstreamUnavailableError(
                f"the {self.upstream} service is busy, retry in {_SATURATED_RETRY_AFTER_S}s",
                headers={"Retry-After": _SATURATED_RETRY_AFTER_S},
            )
        url = f"{path}?{query}" if query else path
        latency_s: float | None = None
        try:
            response: httpx.Response = await self._send_guarded(
                method, url, headers=headers, content=content, timeout_s=timeout_s, stream=stream
            )
            latency_s = time.perf_counter() - sent
            self._answered.observe(latency_s)
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
                f"the {self.upstream} service is unavailable ({type(exc).__name__})",
                headers={"Retry-After": _SATURATED_RETRY_AFTER_S},
            ) from None
        finally:
            # A call with a timeout of its own (an export) is slow by design: no sample.
            self.slots.release(latency_s if timeout_s is None else None)
            self._limit_gauge.set(self.slots.limit.limit)
            self._export_circuit()
        return response

    def _export_circuit(self) -> None:
        self._circuit_gauges.export(self.circuit, self._clock())

    async def _send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None,
        content: bytes | None,
        timeout_s: float | None,
        stream: bool = False,
    ) -> httpx.Response:
        timeouts = httpx.Timeout(timeout_s).as_dict() if timeout_s else self._timeouts
        request = httpx.Request(
            method,
            self._base_url + url,
            headers=headers,
            content=content,
            extensions={"timeout": timeouts},
        )
        with _as_transport_errors(request):
            try:
                async with asyncio.timeout(sum(filter(None, timeouts.values()))):
                    response = await self._transport.handle_async_request(request)
            except TimeoutError as exc:
                message = "the service neither took the call nor answered in time"
                raise httpx.WriteTimeout(message, request=request) from exc
            response.request = request
            if stream:
                return response
            try:
                await response.aread()
            finally:
                await response.aclose()
        return response

    async def close(self) -> None:
        self._closed = True
        await self._transport.aclose()


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
