"""Limits every service enforces itself, and what /readyz tells the world (finding 6)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Request

from orderhub_common.app import create_service_app
from orderhub_common.resources import Resource
from orderhub_common.settings import ServiceSettings

pytestmark = pytest.mark.unit


class BrokenStore(Resource):
    name = "store"

    async def connect(self) -> None:
        return None

    async def ping(self) -> None:
        raise ConnectionError("auth failed for user orderhub at 10.1.2.3:27017 (secret-detail)")

    async def close(self) -> None:
        return None


def direct_client(**settings: Any) -> httpx.AsyncClient:
    router = APIRouter()

    @router.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    app = create_service_app(
        settings=ServiceSettings(environment="test", **settings),
        title="probe",
        routers=[router],
        resources=[BrokenStore()],
    )
    transport = httpx.ASGITransport(app=app, client=("192.0.2.7", 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://probe")


async def test_a_service_reached_directly_refuses_oversized_headers_with_431() -> None:
    async with direct_client(max_request_header_bytes=4096) as client:
        small = await client.post("/echo", content=b"x", headers={"X-Note": "a" * 1000})
        huge = await client.post("/echo", content=b"x", headers={"X-Note": "a" * 8000})

    assert small.status_code == 200
    assert huge.status_code == 431
    assert huge.json()["error"]["code"] == "headers_too_large"


async def test_a_service_reached_directly_refuses_an_oversized_body_with_413() -> None:
    async def chunks() -> Any:  # no Content-Length: the limit applies as the body streams in
        for _ in range(10):
            yield b"x" * 1024

    async with direct_client(max_request_body_bytes=4096) as client:
        declared = await client.post("/echo", content=b"x" * 5000)
        streamed = await client.post("/echo", content=chunks())
        fine = await client.post("/echo", content=b"x" * 4000)

    assert declared.status_code == 413
    assert streamed.status_code == 413
    assert streamed.json()["error"]["code"] == "payload_too_large"
    assert fine.json() == {"bytes": 4000}


async def test_readyz_names_the_failing_dependency_but_not_its_error_text() -> None:
    async with direct_client() as client:
        ready = await client.get("/readyz")

    assert ready.status_code == 503
    assert ready.json()["failing"] == ["store"]
    assert "secret-detail" not in ready.text
    assert "10.1.2.3" not in ready.text
