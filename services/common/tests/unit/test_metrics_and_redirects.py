"""Who reads /metrics, and where a redirect sends the caller (issue 21, finding 12)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from orderhub_common.app import create_service_app
from orderhub_common.settings import ServiceSettings

pytestmark = pytest.mark.unit

TOKEN = "a-long-random-scrape-token"


def client_from(peer: str, **settings: Any) -> httpx.AsyncClient:
    app = create_service_app(
        settings=ServiceSettings(environment="test", **settings), title="probe"
    )
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://probe")


@pytest.mark.parametrize(
    ("peer", "settings", "status"),
    [
        ("127.0.0.1", {}, 200),
        ("::1", {}, 200),
        ("203.0.113.5", {}, 403),
        ("10.42.7.9", {"metrics_allow_ips": "10.0.0.0/8"}, 200),
        ("10.42.7.9", {}, 403),
    ],
)
async def test_metrics_are_read_only_from_the_allowed_addresses(
    peer: str, settings: dict[str, str], status: int
) -> None:
    async with client_from(peer, **settings) as client:
        answer = await client.get("/metrics")

    assert answer.status_code == status
    if status == 403:
        assert answer.json()["error"]["code"] == "forbidden"
        assert "http_requests_total" not in answer.text


async def test_a_client_behind_a_trusted_proxy_is_not_the_proxys_loopback() -> None:
    async with client_from("127.0.0.1", forwarded_allow_ips="127.0.0.1") as client:
        answer = await client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.5"})

    assert answer.status_code == 403


async def test_prometheus_with_the_token_reads_metrics_from_anywhere() -> None:
    async with client_from("203.0.113.5", metrics_token=TOKEN) as client:
        with_token = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer guess"})
        without = await client.get("/metrics")

    assert with_token.status_code == 200
    assert "http_requests_total" in with_token.text
    assert (wrong.status_code, without.status_code) == (403, 403)


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/docs/", "/docs"),
        ("/metrics/?x=1", "/metrics?x=1"),
    ],
)
async def test_a_redirect_is_a_path_here_whatever_the_host_header_says(
    path: str, location: str
) -> None:
    async with client_from("127.0.0.1") as client:
        answer = await client.get(path, headers={"Host": "evil.example"})

    assert 300 <= answer.status_code < 400
    assert answer.headers["Location"] == location
