"""The gateway's pool to a service, over real HTTP/1.1: a burst opens the connections it needs,
later calls reuse them, and a call goes out with the headers the gateway chose and nothing a
client library adds, nor any cookie an earlier caller's answer set."""

from __future__ import annotations

import asyncio

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


@pytest.fixture
async def service_on_port():
    servers: list[asyncio.Server] = []

    async def start(service: SlowService) -> int:
        server = await asyncio.start_server(service.serve, "127.0.0.1", 0)
        servers.append(server)
        return server.sockets[0].getsockname()[1]

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


async def test_a_burst_opens_what_it_needs_and_later_calls_reuse_it(service_on_port) -> None:
    service = SlowService(delay_s=0.05)
    port = await service_on_port(service)
    client = UpstreamClient("orders", f"http://127.0.0.1:{port}", GatewaySettings())
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
    service_on_port,
) -> None:
    service = SlowService(
        delay_s=0, extra_head=b"Set-Cookie: orderhub_refresh=someone-else; Path=/\r\n"
    )
    port = await service_on_port(service)
    # By name, as services are reached in production: aiohttp's own cookie jar would keep a
    # cookie set by a name (it never keeps one set by an address).
    client = UpstreamClient("auth", f"http://localhost:{port}", GatewaySettings())
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
    assert "accept-encoding" not in head
    assert "user-agent" not in head


async def test_a_malformed_answer_is_the_service_failing(service_on_port) -> None:
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"NOT HTTP AT ALL\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(garbage, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = UpstreamClient("orders", f"http://127.0.0.1:{port}", GatewaySettings())
    try:
        with pytest.raises(UpstreamUnavailableError):
            await client.request("GET", "/orders")
        assert client.breaker.failure_count == 1
    finally:
        await client.close()
        server.close()
        await server.wait_closed()


async def test_a_service_that_is_not_listening_is_unavailable() -> None:
    client = UpstreamClient("orders", "http://127.0.0.1:9", GatewaySettings())
    try:
        with pytest.raises(UpstreamUnavailableError) as raised:
            await client.request("GET", "/orders")
        assert raised.value.headers == {"Retry-After": "1"}
    finally:
        await client.close()
