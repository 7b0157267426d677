"""A client that goes away before its answer is a 499 in the metrics and the log, not a 500 that
fires the error-rate alert (issue 25, item 7)."""

from __future__ import annotations

import asyncio
import contextlib

import prometheus_fastapi_instrumentator.instrumentation
import pytest
from fastapi import APIRouter, Request
from prometheus_client import CollectorRegistry
from starlette.types import Message

from orderhub_common.app import create_service_app
from orderhub_common.settings import ServiceSettings

pytestmark = pytest.mark.unit

router = APIRouter()


@router.post("/left-while-uploading")
async def read_the_body(request: Request) -> dict[str, int]:
    # As the gateway's proxy reads a body it forwards: chunk by chunk.
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
    return {"size": size}


@router.post("/left-while-waiting")
async def wait_for_the_client(request: Request) -> dict[str, str]:
    await request.body()
    assert (await request.receive())["type"] == "http.disconnect"
    raise asyncio.CancelledError  # the server gives up on a request nobody waits for


@router.post("/fails")
async def fail() -> None:
    raise RuntimeError("a real bug")


@pytest.fixture(autouse=True)
def registry(monkeypatch: pytest.MonkeyPatch) -> CollectorRegistry:
    """The HTTP metrics of this test's app alone (the instrumentation declares them once per
    registry, and other tests' apps were made first)."""
    fresh = CollectorRegistry()
    monkeypatch.setattr(prometheus_fastapi_instrumentator.instrumentation, "REGISTRY", fresh)
    return fresh


def answered(registry: CollectorRegistry, path: str, status: int) -> float:
    labels = {"handler": path, "method": "POST", "status": str(status)}
    return registry.get_sample_value("http_requests_total", labels) or 0.0


async def call(path: str, messages: list[Message]) -> list[Message]:
    app = create_service_app(
        settings=ServiceSettings(environment="test"), title="probe", routers=[router]
    )
    incoming = iter(messages)
    sent: list[Message] = []

    async def receive() -> Message:
        return next(incoming, {"type": "http.disconnect"})

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"probe"), (b"content-length", b"10")],
        "client": ("127.0.0.1", 40000),
        "server": ("probe", 80),
    }
    cancelled = pytest.raises(asyncio.CancelledError)
    with cancelled if "waiting" in path else contextlib.nullcontext():
        await app(scope, receive, send)
    return sent


@pytest.mark.parametrize(
    ("path", "messages"),
    [
        # Gone halfway through its body.
        (
            "/left-while-uploading",
            [{"type": "http.request", "body": b"12345", "more_body": True}],
        ),
        # Gone while the handler worked, which was then cancelled.
        (
            "/left-while-waiting",
            [{"type": "http.request", "body": b"1234567890", "more_body": False}],
        ),
    ],
)
async def test_a_client_gone_mid_request_is_counted_as_499_not_500(
    path: str, messages: list[Message], registry: CollectorRegistry
) -> None:
    sent = await call(path, messages)

    assert (answered(registry, path, 499), answered(registry, path, 500)) == (1.0, 0.0)
    assert [m["status"] for m in sent if m["type"] == "http.response.start"] == [499]


async def test_a_real_failure_is_still_a_500(registry: CollectorRegistry) -> None:
    sent = await call(
        "/fails", [{"type": "http.request", "body": b"1234567890", "more_body": False}]
    )

    assert answered(registry, "/fails", 500) == 1.0
    assert [m["status"] for m in sent if m["type"] == "http.response.start"] == [500]
