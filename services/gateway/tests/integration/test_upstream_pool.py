"""The gateway's pool to a service, over real HTTP/1.1 (aiohttp under httpx's types): a burst
opens the connections it needs and later calls reuse them; a call goes out with the headers the
gateway chose, nothing the client library adds and no cookie an earlier caller's answer set; and
a service that breaks a call in any way is a 503 the breaker counts, never a hang or a 500."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable

import pytest

from gateway.settings import GatewaySettings
from gateway.upstreams import UpstreamClient, UpstreamUnavailableError

pytestmark = pytest.mark.integration


class SlowService:
    """A real HTTP/1.1 server on a local port that answers each call after ``delay_s``, counts
    the connections open to it and keeps every request head it read."""

    def __init__(self, delay_s: float, answer: bytes = b"{}", extra_head: bytes = b"") -> None:
        self.delay_s = delay_s
        self.answer = answer
        self.extra_head = extra_head
        self.open = 0
        self.opened = 0
        self.heads: list[bytes] = []

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.open += 1
        self.opened += 1
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                self.heads.append(head)
                length = next(
                    (
                        int(line.split(b":", 1)[1])
                        for line in head.lower().split(b"\r\n")
                        if line.startswith(b"content-length:")
                    ),
                    0,
                )
                await reader.readexactly(length)
                await asyncio.sleep(self.delay_s)
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + self.extra_head
                    + b"Content-Length: %d\r\n\r\n" % len(self.answer)
                    + self.answer
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.open -= 1
            writer.close()


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@pytest.fixture
async def serving():
    """Starts a local server running a connection handler; its base URL. Stopped after the test."""
    servers: list[asyncio.Server] = []

    async def start(handle: Handler) -> str:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        servers.append(server)
        return f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


async def test_a_burst_opens_what_it_needs_and_later_calls_reuse_it(serving) -> None:
    service = SlowService(delay_s=0.05)
    client = UpstreamClient("orders", await serving(service.serve), GatewaySettings())
    try:
        answers = await asyncio.gather(*(client.request("GET", "/orders") for _ in range(20)))
        assert [answer.json() for answer in answers] == [{}] * 20
        assert service.opened == 20  # the burst had a connection per call

        for _ in range(3):
            await asyncio.gather(*(client.request("GET", "/orders") for _ in range(8)))
        assert service.opened == 20  # nothing new was opened
    finally:
        await client.close()


async def test_a_call_carries_only_the_gateway_headers_and_no_earlier_cookie(
    serving,
) -> None:
    service = SlowService(
        delay_s=0, extra_head=b"Set-Cookie: orderhub_refresh=someone-else; Path=/\r\n"
    )
    # By name, as services are reached in production: aiohttp's own cookie jar would keep a
    # cookie set by a name (it never keeps one set by an address).
    by_name = (await serving(service.serve)).replace("127.0.0.1", "localhost")
    client = UpstreamClient("auth", by_name, GatewaySettings())
    try:
        first = await client.request("GET", "/auth/session")
        assert first.headers["set-cookie"].startswith("orderhub_refresh=someone-else")
        await client.request(
            "GET", "/orders", query="limit=20", headers={"authorization": "Bearer next-caller"}
        )
    finally:
        await client.close()
    head = service.heads[-1].decode().lower()
    assert head.startswith("get /orders?limit=20 http/1.1\r\n")
    assert "authorization: bearer next-caller" in head
    assert "cookie" not in head
    for added in ("accept", "accept-encoding", "user-agent"):
        assert f"\r\n{added}:" not in head


async def test_a_body_goes_out_with_the_callers_type_or_none(serving) -> None:
    service = SlowService(delay_s=0)
    client = UpstreamClient("orders", await serving(service.serve), GatewaySettings())
    try:
        await client.request("POST", "/orders/matching", content=b'{"a": 1}')
        await client.request(
            "PATCH",
            "/orders/o1/status",
            headers={"content-type": "application/json"},
            content=b'{"status": "CONFIRMED"}',
        )
    finally:
        await client.close()
    untyped, typed = (head.decode().lower() for head in service.heads)
    assert "\r\ncontent-type:" not in untyped
    assert "\r\ncontent-length: 8\r\n" in untyped
    assert "\r\ncontent-type: application/json\r\n" in typed


async def test_a_malformed_answer_is_the_service_failing(serving) -> None:
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"NOT HTTP AT ALL\r\n\r\n")
        await writer.drain()
        writer.close()

    client = UpstreamClient("orders", await serving(garbage), GatewaySettings())
    try:
        with pytest.raises(UpstreamUnavailableError):
            await client.request("GET", "/orders")
        assert client.breaker.failure_count == 1
    finally:
        await client.close()


def _closed_port() -> int:
    """A local port that nothing listens on (it was bound, then let go)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_a_service_that_is_not_listening_is_unavailable() -> None:
    client = UpstreamClient("orders", f"http://127.0.0.1:{_closed_port()}", GatewaySettings())
    try:
        with pytest.raises(UpstreamUnavailableError) as raised:
            await client.request("GET", "/orders")
        assert raised.value.headers == {"Retry-After": "1"}
        assert "ConnectError" in raised.value.message
    finally:
        await client.close()


async def test_a_call_lost_after_it_went_out_is_named_so(serving) -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.close()

    client = UpstreamClient("orders", await serving(hang_up), GatewaySettings())
    try:
        with pytest.raises(UpstreamUnavailableError) as raised:
            await client.request("POST", "/orders/matching", content=b"{}")
        assert "ReadError" in raised.value.message
        assert client.breaker.failure_count == 1
    finally:
        await client.close()


async def test_a_service_that_stops_reading_is_given_up(serving) -> None:
    held: list[asyncio.StreamWriter] = []

    async def never_read(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)  # the connection stays open; nothing is read from it

    settings = GatewaySettings(upstream_connect_timeout_s=0.2, upstream_timeout_s=0.3)
    client = UpstreamClient("orders", await serving(never_read), settings)
    started = time.monotonic()
    try:
        # Far more than the sockets' buffers hold, so sending blocks; were it never given up,
        # the outer bound fails the test instead of hanging it.
        async with asyncio.timeout(10):
            with pytest.raises(UpstreamUnavailableError) as raised:
                await client.request("POST", "/orders/matching", content=b"x" * 64_000_000)
        assert "WriteTimeout" in raised.value.message
        assert time.monotonic() - started < 5
    finally:
        await client.close()
        for writer in held:
            writer.close()


async def test_a_call_after_the_gateway_closed_its_pool_is_a_503(serving) -> None:
    service = SlowService(delay_s=0)
    client = UpstreamClient("orders", await serving(service.serve), GatewaySettings())
    await client.request("GET", "/orders")
    await client.close()
    with pytest.raises(UpstreamUnavailableError) as raised:
        await client.request("GET", "/orders")
    assert raised.value.headers == {"Retry-After": "1"}
    assert len(service.heads) == 1
