"""A real gateway (uvicorn, Redis db 4, Kafka) in front of fake auth and orders services.

The fakes are small ASGI apps reached through httpx transports, so tests can see exactly what a
service received and how often it was asked. Ingest is deliberately down (nothing listens on its
port). Each test uses its own client address (X-Forwarded-For from a trusted local proxy) and its
own users, so rate limits never leak between tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from redis.asyncio import Redis

from devstack.pytest_plugin import InfraUrls
from gateway.main import create_app
from gateway.routes import Upstream
from gateway.settings import GatewaySettings
from orderhub_common.errors import error_response
from orderhub_common.kafka import Topics
from orderhub_common.security import JwtVerifier
from orderhub_common.testing import FakeTokenIssuer

GATEWAY_REDIS_DB = 4
RATE_LIMIT_PER_MIN = 40


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Clock:
    """A clock in the test's hands."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def redis(infra: InfraUrls) -> AsyncIterator[Redis]:
    """A client of the gateway's Redis database, as the edge has it (replies decoded)."""
    client = Redis.from_url(infra.redis_db(GATEWAY_REDIS_DB), decode_responses=True)
    yield client
    await client.aclose()


async def ready() -> dict[str, str]:
    return {"status": "ready"}


@dataclass
class FakeOrders:
    """Orders as the gateway sees them, with switches: down (connection refused), held orders
    (their reads wait until released), and a count of the reads of each query."""

    statuses: dict[str, str] = field(default_factory=lambda: {"o1": "PLACED"})
    reads: int = 0
    reads_of: Counter[str] = field(default_factory=Counter)
    down: bool = False
    held: dict[str, asyncio.Event] = field(default_factory=dict)
    reading: dict[str, asyncio.Event] = field(default_factory=dict)
    """Set once a held order's read has reached the service."""
    abandoned: list[str] = field(default_factory=list)
    """Reads cancelled while held (their caller gave up on them)."""
    notes: dict[str, list[str]] = field(default_factory=dict)
    write_delay_s: float = 0.0

    def add(self, status: str = "PLACED") -> str:
        order_id = f"o-{uuid.uuid4().hex[:8]}"
        self.statuses[order_id] = status
        return order_id

    def hold(self, order_id: str) -> asyncio.Event:
        """Reads of ``order_id`` wait from now on until the returned event is set."""
        self.reading[order_id] = asyncio.Event()
        release = self.held[order_id] = asyncio.Event()
        return release

    async def _read(self, request: Request, order_id: str | None = None) -> None:
        if self.down:
            raise httpx.ConnectError("connection refused (the fake orders service is down)")
        self.reads += 1
        self.reads_of[f"{request.url.path}?{request.url.query}"] += 1
        delay = float(request.query_params.get("delay", 0))
        if delay:
            await asyncio.sleep(delay)
        if order_id in self.held:
            self.reading[order_id].set()
            try:
                await self.held[order_id].wait()
            except asyncio.CancelledError:
                self.abandoned.append(order_id)
                raise

    def app(self) -> FastAPI:
        app = FastAPI(title="fake orders")
        app.get("/readyz")(ready)

        def order(order_id: str) -> dict[str, str]:
            return {"id": order_id, "status": self.statuses[order_id]}

        @app.get("/orders")
        async def list_orders(request: Request) -> dict[str, Any]:
            await self._read(request)
            orders = [order(order_id) for order_id in self.statuses]
            return {"orders": orders, "query": str(request.query_params)}

        @app.get("/orders/stats")
        async def stats(request: Request) -> dict[str, Any]:
            await self._read(request)
            return {"byStatus": dict(Counter(self.statuses.values()))}

        @app.get("/orders/{order_id}", response_model=None)
        async def get_order(order_id: str, request: Request) -> Any:
            await self._read(request, order_id)
            if order_id not in self.statuses:
                return error_response(404, "order_not_found", f"no order {order_id}")
            return {"order": order(order_id)}

        @app.patch("/orders/{order_id}/status", response_model=None)
        async def change_status(order_id: str, request: Request) -> Any:
            status = (await request.json())["status"]
            await asyncio.sleep(self.write_delay_s)
            if self.statuses[order_id] == status:
                return error_response(409, "invalid_transition", "already there")
            self.statuses[order_id] = status
            return {"order": order(order_id)}

        @app.post("/orders/{order_id}/notes", status_code=201)
        async def add_note(order_id: str, request: Request) -> dict[str, Any]:
            await asyncio.sleep(self.write_delay_s)
            self.notes.setdefault(order_id, []).append((await request.json())["text"])
            return {"order": order(order_id), "notes": self.notes[order_id]}

        return app


def fake_auth() -> FastAPI:
    app = FastAPI(title="fake auth")
    app.get("/readyz")(ready)

    @app.post("/auth/login")
    async def login(request: Request) -> dict[str, Any]:
        return {"accessToken": "issued", "received": await request.json()}

    @app.get("/auth/me")
    async def me(request: Request) -> dict[str, Any]:
        return {"headers": dict(request.headers)}

    @app.get("/users")
    async def users() -> list[dict[str, str]]:
        return [{"id": "u1", "role": "admin"}]

    return app


@dataclass
class RunningGateway:
    url: str
    settings: GatewaySettings
    topics: Topics
    tokens: FakeTokenIssuer
    orders: FakeOrders
    redis: Redis

    def client(self, ip: str | None = None, **kwargs: Any) -> httpx.AsyncClient:
        """A client calling from its own address (the gateway trusts the local proxy's XFF)."""
        address = ip or ".".join(["10", *(str(b) for b in uuid.uuid4().bytes[:3])])
        headers = {"X-Forwarded-For": address}
        return httpx.AsyncClient(base_url=self.url, headers=headers, **{"timeout": 10, **kwargs})

    def bearer(self, role: str, user_id: str | None = None) -> dict[str, str]:
        return self.tokens.bearer(role, user_id)


@contextlib.asynccontextmanager
async def running_gateway(
    infra: InfraUrls, spa_dist: Any, **overrides: Any
) -> AsyncIterator[RunningGateway]:
    """A gateway on a port of its own, on the suite's Redis database, in front of fakes."""
    prefix = f"t{uuid.uuid4().hex[:10]}."
    port = free_port()
    settings = GatewaySettings(
        environment="test",
        port=port,
        redis_url=infra.redis_db(GATEWAY_REDIS_DB),
        kafka_topic_prefix=prefix,
        kafka_partitions=1,
        ingest_url=f"http://127.0.0.1:{free_port()}",
        rate_limit_per_ip_per_min=RATE_LIMIT_PER_MIN,
        rate_limit_per_user_per_min=RATE_LIMIT_PER_MIN,
        frontend_dist=spa_dist,
        # Lists stay fresh for the whole of a test unless it asks otherwise.
        **{
            **infra.kafka_settings(),
            "sse_heartbeat_s": 1,
            "breaker_recovery_s": 60,
            "list_cache_ttl_s": 60,
            **overrides,
        },
    )
    tokens = FakeTokenIssuer(kid="k1")
    orders = FakeOrders()
    app = create_app(
        settings,
        upstream_transports={
            Upstream.AUTH: httpx.ASGITransport(fake_auth()),
            Upstream.ORDERS: httpx.ASGITransport(orders.app()),
        },
        jwt_verifier=JwtVerifier(settings, jwks_source=tokens.jwks),
    )
    redis = Redis.from_url(infra.redis_db(GATEWAY_REDIS_DB), decode_responses=True)
    # The suite's own database; one gateway of the suite runs at a time. The services' user may
    # not flush it: the clean-up user does.
    admin = Redis.from_url(infra.redis_admin_db(GATEWAY_REDIS_DB))
    try:
        await admin.flushdb()
    finally:
        await admin.aclose()
    try:
        async with serving(app, port):
            yield RunningGateway(
                f"http://127.0.0.1:{port}", settings, Topics(prefix), tokens, orders, redis
            )
    finally:
        await redis.aclose()


@pytest.fixture(scope="module")
def no_spa_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where a built SPA would be, empty: a module's gateway that serves no SPA."""
    return tmp_path_factory.mktemp("no-spa") / "dist"


@pytest.fixture(scope="module")
async def gateway(infra: InfraUrls, no_spa_dist: Path) -> AsyncIterator[RunningGateway]:
    async with running_gateway(infra, no_spa_dist) as running:
        yield running


@contextlib.asynccontextmanager
async def serving(app: Any, port: int) -> AsyncIterator[None]:
    """Runs ``app`` under uvicorn on ``port`` (trusting X-Forwarded-For from localhost)."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, proxy_headers=True)
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    try:
        yield
    finally:
        server.should_exit = True
        await task
