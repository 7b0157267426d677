import asyncio

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from gateway.admission import AdmissionMiddleware

pytestmark = pytest.mark.unit


class HeldApp:
    """Answers 200 once released: calls stay in flight as long as the test wants."""

    def __init__(self) -> None:
        self.release = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


async def test_calls_beyond_the_limit_are_a_fast_503_and_the_stream_is_not_counted() -> None:
    held = HeldApp()
    app = AdmissionMiddleware(held, max_in_flight=2)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gw"
    ) as client:
        admitted = [asyncio.create_task(client.get("/api/orders")) for _ in range(2)]
        stream = asyncio.create_task(client.get("/api/events"))
        spa = asyncio.create_task(client.get("/"))
        await asyncio.sleep(0.05)

        refused = await client.get("/api/orders/stats")
        assert refused.status_code == 503
        assert refused.json()["error"]["code"] == "service_unavailable"
        assert refused.headers["Retry-After"] == "1"

        held.release.set()
        answers = await asyncio.gather(*admitted, stream, spa)
        assert [a.status_code for a in answers] == [200, 200, 200, 200]
        assert (await client.get("/api/orders")).status_code == 200, "slots come back"
