"""A burst of calls to a service opens the connections it needs, and afterwards the gateway keeps
only ``GATEWAY_UPSTREAM_KEEPALIVE_CONNECTIONS`` of them open: httpx checks every idle connection
of its pool on each call, so a pool grown by one burst would tax every call after it."""

from __future__ import annotations

import asyncio

import pytest

from gateway.settings import GatewaySettings
from gateway.upstreams import UpstreamClient

pytestmark = pytest.mark.integration


class SlowService:
    """A real HTTP/1.1 server on a local port that answers each call after ``delay_s`` and
    counts the connections open to it."""

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self.open = 0
        self.opened = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.open += 1
        self.opened += 1
        try:
            while await reader.readuntil(b"\r\n\r\n"):
                await asyncio.sleep(self.delay_s)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.open -= 1
            writer.close()


async def test_a_burst_leaves_only_the_kept_connections_open() -> None:
    service = SlowService(delay_s=0.05)
    server = await asyncio.start_server(service.serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    settings = GatewaySettings(orders_max_in_flight=24, upstream_keepalive_connections=4)
    client = UpstreamClient("orders", f"http://127.0.0.1:{port}", settings)
    try:
        answers = await asyncio.gather(*(client.request("GET", "/orders") for _ in range(20)))
        assert [answer.status_code for answer in answers] == [200] * 20
        assert service.opened == 20  # the burst had a connection per call
        for _ in range(50):
            if service.open <= 4:
                break
            await asyncio.sleep(0.02)
        assert service.open == 4

        # The kept connections serve the next calls: nothing new is opened.
        await asyncio.gather(*(client.request("GET", "/orders") for _ in range(4)))
        assert service.opened == 20
    finally:
        await client.close()
        server.close()
        await server.wait_closed()
