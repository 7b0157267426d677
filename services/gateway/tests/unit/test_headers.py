import pytest

from gateway.headers import SECURITY_HEADERS
from gateway.upstreams import downstream_response_headers, upstream_request_headers

pytestmark = pytest.mark.unit


def test_a_service_gets_the_callers_essentials_and_the_edges_tracing() -> None:
    incoming = {
        "authorization": "Bearer abc",
        "content-type": "application/json",
        "cookie": "session=secret",
        "host": "gateway.example",
        "x-forwarded-for": "203.0.113.9",
    }

    headers = upstream_request_headers(
        incoming, client_ip="10.0.0.7", request_id="req-1", scheme="https"
    )

    assert headers == {
        "authorization": "Bearer abc",
        "content-type": "application/json",
        "X-Request-ID": "req-1",
        "X-Forwarded-For": "10.0.0.7",
        "X-Forwarded-Proto": "https",
    }


def test_a_forged_forwarded_chain_never_reaches_the_services() -> None:
    headers = upstream_request_headers(
        {"x-forwarded-for": "198.51.100.23, 192.0.2.1"},
        client_ip="203.0.113.50",
        request_id=None,
        scheme="http",
    )

    assert headers["X-Forwarded-For"] == "203.0.113.50"
    assert "X-Request-ID" not in headers


def test_hop_by_hop_and_edge_owned_headers_do_not_come_back() -> None:
    upstream = [
        ("content-type", "application/json"),
        ("retry-after", "30"),
        ("connection", "keep-alive"),
        ("transfer-encoding", "chunked"),
        ("content-length", "12"),
        ("x-request-id", "from-service"),
        ("server", "uvicorn"),
        ("set-cookie", "a=1"),
        ("set-cookie", "b=2"),
    ]

    assert downstream_response_headers(upstream) == [
        ("content-type", "application/json"),
        ("retry-after", "30"),
        ("set-cookie", "a=1"),
        ("set-cookie", "b=2"),
    ]


def test_the_spa_policy_loads_nothing_from_elsewhere_and_cannot_be_framed() -> None:
    csp = SECURITY_HEADERS["Content-Security-Policy"]

    assert "default-src 'self'" in csp
    assert "script-src 'self';" in csp
    assert "frame-ancestors 'none'" in csp
    assert SECURITY_HEADERS["X-Frame-Options"] == "DENY"
    assert SECURITY_HEADERS["X-Content-Type-Options"] == "nosniff"


def test_only_the_webhook_route_passes_shopifys_signature_on() -> None:
    incoming = {
        "content-type": "application/json",
        "x-shopify-hmac-sha256": "c2lnbmVk",
        "x-shopify-webhook-id": "b54557e4",
        "x-shopify-topic": "orders/create",
    }

    webhook = upstream_request_headers(
        incoming, client_ip="203.0.113.5", request_id=None, scheme="https", webhook=True
    )
    other = upstream_request_headers(
        incoming, client_ip="203.0.113.5", request_id=None, scheme="https"
    )

    assert webhook["x-shopify-hmac-sha256"] == "c2lnbmVk"
    assert webhook["x-shopify-webhook-id"] == "b54557e4"
    assert webhook["x-shopify-topic"] == "orders/create"
    assert not any(name.startswith("x-shopify") for name in other)
