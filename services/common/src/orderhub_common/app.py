"""The one way a service is assembled and run.

``create_service_app`` gives every service the same skeleton: request ids, the JSON error model
(with store outages as 503), the client's address, request size limits, the per-address rate
limit (``orderhub_common.ratelimit``), ``/healthz``, ``/readyz``, ``/metrics``, and a
lifespan that connects each resource with retries (graceful start) and drains and closes
everything on SIGTERM within the configured timeout (graceful stop). ``serve`` runs it under
uvicorn.

The client's address (handlers read it as ``orderhub_common.http.ClientAddress``) is resolved
once, here, from ``FORWARDED_ALLOW_IPS``: behind a trusted proxy it is the nearest
``X-Forwarded-For`` hop that is not itself a trusted proxy (hops further out could be written by
the client), otherwise the peer; a hop that is not an IP address is a 400
(``orderhub_common.http.ForwardedClientMiddleware``).
It is uvicorn's own resolver, installed in the app rather than in the server so an app under test
(without uvicorn) resolves addresses exactly as in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hmac
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from ipaddress import ip_address, ip_network
from typing import Any

import uvicorn
from fastapi import APIRouter, Depends, FastAPI, Request
from loguru import logger
from prometheus_fastapi_instrumentator import Instrumentator
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    retry_if_not_exception_type,
    stop_after_delay,
    wait_exponential_jitter,
)

from orderhub_common.errors import ForbiddenError, install_error_handlers
from orderhub_common.head_limit import head_limited_server_options
from orderhub_common.health import health_router
from orderhub_common.http import (
    ForwardedClientMiddleware,
    RelativeRedirectMiddleware,
    RequestContextMiddleware,
    RequestLimitsMiddleware,
    client_address,
)
from orderhub_common.logging import configure_logging
from orderhub_common.ratelimit import RateLimit, RateLimitMiddleware
from orderhub_common.resources import Resource, UnusableResourceError, Worker, stop_tasks
from orderhub_common.settings import ServiceSettings


async def connect_with_retries(resource: Resource, timeout_s: float) -> None:
    started = time.monotonic()
    logger.info(f"pre-flight: connecting to {resource.name} {resource.target}".rstrip())
    async for attempt in AsyncRetrying(
        stop=stop_after_delay(timeout_s),
        wait=wait_exponential_jitter(multiplier=0.2, max=3),
        retry=retry_if_exception_type(Exception)
        & retry_if_not_exception_type(UnusableResourceError),
        reraise=True,
    ):
        with attempt:
            if attempt.retry_state.attempt_number > 1:
                logger.warning(
                    f"pre-flight: {resource.name} not answering yet "
                    f"(attempt {attempt.retry_state.attempt_number})"
                )
            await resource.connect()
    logger.info(f"pre-flight: {resource.name} ready in {time.monotonic() - started:.2f}s")


def create_service_app(
    *,
    settings: ServiceSettings,
    title: str,
    description: str = "",
    resources: Sequence[Resource] = (),
    workers: Callable[[], Sequence[Worker]] = tuple,
    routers: Sequence[APIRouter] = (),
    state: dict[str, Any] | None = None,
    openapi_tags: list[dict[str, Any]] | None = None,
    rate_limit: RateLimit | None = None,
) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        connected: list[Resource] = []
        running: list[Worker] = []
        try:
            for resource in resources:
                await connect_with_retries(resource, settings.startup_timeout_s)
                connected.append(resource)
            for worker in workers():
                worker.task = asyncio.create_task(worker.run(), name=worker.name)
                running.append(worker)
                logger.info(f"worker {worker.name} started")
            logger.info(f"{title} is ready")
            yield
        finally:
            logger.info(f"{title} stopping: draining workers and closing connections")
            await _stop(running, connected, settings.shutdown_timeout_s)
            logger.info(f"{title} stopped")

    app = FastAPI(
        title=title,
        description=description,
        version="1.0.0",
        lifespan=lifespan,
        openapi_tags=openapi_tags,
    )
    app.state.settings = settings
    for key, value in (state or {}).items():
        setattr(app.state, key, value)
    app.add_middleware(
        RequestLimitsMiddleware,
        max_header_bytes=settings.max_request_header_bytes,
        max_body_bytes=settings.max_request_body_bytes,
    )
    if rate_limit is not None:
        # Outside the size limits (a refused caller's body is never read), inside the request
        # context (its 429 has a request id and a log line) and the address resolution.
        app.add_middleware(RateLimitMiddleware, limit=rate_limit)
    app.add_middleware(RequestContextMiddleware)
    app.add_middleware(RelativeRedirectMiddleware)
    if settings.forwarded_allow_ips:
        app.add_middleware(ForwardedClientMiddleware, trusted_proxies=settings.forwarded_allow_ips)
    install_error_handlers(app)
    app.include_router(health_router(resources))
    Instrumentator(
        excluded_handlers=["/metrics", "/healthz", "/readyz"],
        should_group_status_codes=False,
    ).instrument(app).expose(
        app, include_in_schema=False, dependencies=[Depends(metrics_reader(settings))]
    )
    for router in routers:
        app.include_router(router)
    return app


def metrics_reader(settings: ServiceSettings) -> Callable[[Request], Awaitable[None]]:
    """The check in front of ``/metrics``: a caller from ``metrics_allow_ips`` (its address as
    resolved behind the trusted proxies), or one presenting ``metrics_token``; else 403."""
    entries = [entry for entry in settings.metrics_allow_ips.split(",") if entry]
    anyone = "*" in entries
    networks = [ip_network(entry, strict=False) for entry in entries if entry != "*"]
    token = settings.metrics_token.get_secret_value().encode() if settings.metrics_token else None

    async def check(request: Request) -> None:
        address = client_address(request)
        with contextlib.suppress(ValueError):
            if anyone or (address and any(ip_address(address) in net for net in networks)):
                return
        scheme, _, presented = request.headers.get("authorization", "").partition(" ")
        if token and scheme.lower() == "bearer" and hmac.compare_digest(presented.encode(), token):
            return
        raise ForbiddenError("metrics are read from the monitoring network or with its token")

    return check


async def _stop(workers: list[Worker], resources: list[Resource], timeout_s: float) -> None:
    tasks = [w.task for w in workers if w.task is not None]
    for task in await stop_tasks(tasks, timeout_s):
        logger.error(f"worker {task.get_name()} did not stop within {timeout_s:g}s")
    for resource in reversed(resources):
        try:
            await asyncio.wait_for(resource.close(), timeout_s)
        except Exception as exc:
            logger.warning(f"closing {resource.name} failed: {exc!r}")


# Container objects a request may leave alive (net of those freed) before the collector runs.
# A request's objects are nearly all freed by reference counting as it ends: at 150 requests a
# second the gateway then collects a few times a minute instead of 20 times a second.
YOUNG_GENERATION_OBJECTS = 10_000


def settle_heap() -> None:
    """Takes what the service built before serving (modules, models, routes: about 180,000
    objects in the gateway) out of the cyclic collector's reach and collects young objects
    less often.

    With Python's defaults the gateway spent 5 to 7% of its CPU collecting under the crowd, and
    every few seconds a full collection walked the whole start-up heap: 80 to 160 ms of CPU
    in one go, which every request arriving meanwhile waited out (p99).
    """
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_OBJECTS, middle, oldest)


# How long a service keeps an idle keep-alive connection open (uvicorn's default, made explicit:
# the gateway's pool closes its idle connections a second sooner).
KEEP_ALIVE_S = 5


def serve(service: str, settings: ServiceSettings, app_factory: Callable[[], FastAPI]) -> None:
    """Runs the service until SIGTERM/SIGINT, then drains within ``shutdown_timeout_s``."""
    configure_logging(service, settings.log_level)
    port = getattr(settings, "port", None)
    if port is None:
        raise SystemExit(f"{service}: settings have no port")
    logger.info(f"{service} starting on {settings.host}:{port} ({settings.environment})")
    app = app_factory()
    settle_heap()
    uvicorn.run(
        app,
        host=settings.host,
        port=port,
        log_config=None,
        access_log=False,
        # The app resolves X-Forwarded-For itself (create_service_app); twice would go too far.
        proxy_headers=False,
        timeout_graceful_shutdown=int(settings.shutdown_timeout_s),
        timeout_keep_alive=KEEP_ALIVE_S,
        server_header=False,
        # A head over the limit is refused as it arrives, never read whole.
        **head_limited_server_options(settings.max_request_header_bytes),
    )
