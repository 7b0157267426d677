"""The gateway: the one public entry, serving the SPA at ``/`` and the API under ``/api``."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from gateway import spa
from gateway.admission import AdmissionMiddleware
from gateway.api import docs, health, order_stream, proxy
from gateway.cache import ReadThrough, ResponseCache
from gateway.consumers import sse_group_id, subscribe_order_events
from gateway.edge import Edge
from gateway.fanout import EventHub
from gateway.headers import RateLimitHeadersMiddleware, SecurityHeadersMiddleware
from gateway.idempotency import IdempotentWrites
from gateway.openapi import CombinedOpenApi
from gateway.ratelimit import RateLimiter
from gateway.redis_outage import EdgeRedis
from gateway.routes import Upstream
from gateway.settings import GatewaySettings
from gateway.stream_events import with_stream_components
from gateway.upstreams import upstream_clients
from orderhub_common.app import create_service_app, serve
from orderhub_common.http import RequestContextMiddleware
from orderhub_common.kafka import create_broker, ensure_topics, topics_from
from orderhub_common.ratelimit import RateLimit
from orderhub_common.resources import KafkaResource
from orderhub_common.revocation import AccessRevocations
from orderhub_common.security import JwtVerifier
from orderhub_common.settings import load_settings
from orderhub_common.verified_tokens import VerifiedTokens

_DESCRIPTION = (
    "Order Hub's one public entry: the API of every service under `/api`, signed in with "
    "`Authorization: Bearer <accessToken>` from `POST /api/auth/login`."
)
_EXPOSED_HEADERS = [
    "X-Request-ID",
    "Idempotent-Replayed",
    "Retry-After",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "X-Cache",
]
# FastAPI's own document covers only the gateway's routes; /openapi.json serves the combined one.
_REPLACED_ROUTES = frozenset({"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})


def create_app(
    settings: GatewaySettings,
    *,
    upstream_transports: Mapping[Upstream, httpx.AsyncBaseTransport] | None = None,
    jwt_verifier: JwtVerifier | None = None,
) -> FastAPI:
    redis = EdgeRedis(
        settings.redis_url.get_secret_value(), max_connections=settings.redis_max_connections
    )
    broker = create_broker(settings, client_id="gateway")
    upstreams = upstream_clients(settings, upstream_transports)
    cache = ResponseCache(
        redis.client,
        detail_fresh_s=settings.cache_ttl_s,
        list_fresh_s=settings.list_cache_ttl_s,
        stale_s=settings.cache_stale_ttl_s,
        # The longest a fill can take: waiting for a slot, connecting, then the answer.
        fill_timeout_s=settings.upstream_queue_timeout_s
        + settings.upstream_connect_timeout_s
        + settings.upstream_timeout_s,
    )
    reads = ReadThrough(cache, fill_wait_s=settings.cache_fill_wait_s)
    tokens = VerifiedTokens(
        jwt_verifier or JwtVerifier(settings),
        ttl_s=settings.verified_token_cache_ttl_s,
        max_size=settings.verified_token_cache_size,
    )
    hub = EventHub(settings.sse_replay_size)
    subscribe_order_events(
        broker,
        topics_from(settings),
        group_id=sse_group_id(settings.port),
        cache=cache,
        hub=hub,
    )

    async def create_topics() -> None:
        await ensure_topics(settings)

    app = create_service_app(
        settings=settings,
        rate_limit=RateLimit(
            "gateway", settings.rate_limit_per_ip_per_min, redis.client, exempt_prefixes=("/api/",)
        ),
        title="Order Hub API",
        description=_DESCRIPTION,
        # Every call is served without either (docs/FAULTS.md): neither makes the gateway unready.
        resources=[
            redis.degrades_to("rate limits and the read cache fail open"),
            KafkaResource(broker, before_start=create_topics).degrades_to(
                "no live order events; every API call is served"
            ),
        ],
        # signed_principal (orderhub_common.security) verifies through the memory of tokens.
        state={"jwt_verifier": tokens},
    )
    app.state.edge = Edge(
        settings=settings,
        redis=redis.client,
        upstreams=upstreams,
        tokens=tokens,
        limiter=RateLimiter(redis.client),
        cache=cache,
        reads=reads,
        hub=hub,
        openapi=CombinedOpenApi(
            lambda: with_stream_components(app.openapi()),
            upstreams,
            ttl_s=settings.openapi_cache_ttl_s,
        ),
        revocations=AccessRevocations(redis.client),
        idempotent_writes=IdempotentWrites(redis.client),
    )
    app.router.routes[:] = [
        route for route in app.router.routes if getattr(route, "path", None) not in _REPLACED_ROUTES
    ]
    for router in (docs.router, order_stream.router, health.router, proxy.router, spa.router):
        app.include_router(router)
    _install_middleware(app, settings)
    _close_on_shutdown(app, [reads.close, *(client.close for client in upstreams.values())])
    return app


def _install_middleware(app: FastAPI, settings: GatewaySettings) -> None:
    # Innermost, inside the request-id middleware: preflight answers carry X-Request-ID too.
    app.user_middleware.append(
        Middleware(
            CORSMiddleware,
            allow_origins=settings.allowed_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=[
                "Authorization",
                "Cache-Control",
                "Content-Type",
                "Idempotency-Key",
                "X-CSRF-Token",
                "X-Request-ID",
            ],
            expose_headers=_EXPOSED_HEADERS,
            max_age=600,
        )
    )
    app.user_middleware.append(Middleware(RateLimitHeadersMiddleware))
    # Just inside the request-id middleware (a refusal carries its X-Request-ID and, from the
    # outermost middleware, the security headers), before any other work of the call.
    request_context = next(
        i for i, m in enumerate(app.user_middleware) if m.cls is RequestContextMiddleware
    )
    app.user_middleware.insert(
        request_context + 1, Middleware(AdmissionMiddleware, max_in_flight=settings.max_in_flight)
    )
    # Outermost: every response gets them, whoever produced it.
    app.add_middleware(SecurityHeadersMiddleware)


def _close_on_shutdown(app: FastAPI, closers: list[Callable[[], Awaitable[None]]]) -> None:
    """Runs ``closers`` after the service's own lifespan has drained and closed its resources."""
    service_lifespan = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[Any]:
        try:
            async with service_lifespan(app) as state:
                yield state
        finally:
            for close in closers:
                await close()

    app.router.lifespan_context = lifespan


def run() -> None:
    settings = load_settings(GatewaySettings)
    # The shared logging setup leaves the root logger at level 0, so every library logger is
    # enabled for everything and loguru drops the lines only after they were built: uvicorn then
    # wraps the app in its ASGI message tracer (every message of every request formatted), and
    # httpcore emits a dozen debug records per call to a service. Their levels are set here.
    for name in ("uvicorn.error", "httpcore"):
        logging.getLogger(name).setLevel(settings.log_level.upper())
    serve("gateway", settings, lambda: create_app(settings))
