"""The edge's security claims of docs/THREAT_MODEL.md, proven against the running stack (issue
21, findings 2, 12 and 15): a client-written X-Forwarded-For never picks the address the sign-in
throttle counts or the audit log records, and one that is no address is refused; /metrics is not
public; a redirect never follows the Host header; a huge header is cut at the socket.
"""

from __future__ import annotations

import contextlib
import re
import socket
import time
import uuid
from ipaddress import ip_address
from pathlib import Path
from typing import Any

import httpx
import pytest

from devstack.stack import Stack

pytestmark = pytest.mark.e2e

SERVICES_WITH_API = ("auth", "orders", "ingest")


@pytest.fixture(scope="module")
def viewer_session(gateway_url: str, credentials: dict[str, tuple[str, str]]) -> dict[str, Any]:
    signed_in = httpx.post(
        f"{gateway_url}/api/auth/login",
        json={"email": credentials["viewer"][0], "password": credentials["viewer"][1]},
        timeout=10,
    )
    assert signed_in.status_code == 200, signed_in.text
    session: dict[str, Any] = signed_in.json()
    return session


# Markup, loopback, a private address, a random public one: what an attacker writes.
FORGED_FORWARDED_FOR = [
    "<img src=x onerror=alert(document.domain)>",
    "127.0.0.1",
    "10.0.0.1",
    "::1",
    *(f"198.51.100.{i}" for i in range(1, 12)),
]
# Loopback, but not the address the test profile's gateway trusts (127.0.0.1): a client the
# gateway believes nothing from, as a caller on the internet is.
UNTRUSTED_CLIENT = "127.0.0.2"


def _wrong_passwords_until_throttled(
    client: httpx.Client, gateway_url: str, email: str, forwarded_for: list[str]
) -> tuple[list[int], list[str]]:
    """Wrong passwords, a different X-Forwarded-For each time, until a 429 (statuses, the
    request ids of the refused sign-ins)."""
    statuses, request_ids = [], []
    for forged in forwarded_for:
        answer = client.post(
            f"{gateway_url}/api/auth/login",
            json={"email": email, "password": "not-the-password"},
            headers={"X-Forwarded-For": forged},
        )
        statuses.append(answer.status_code)
        if answer.status_code == 401:
            request_ids.append(answer.headers["X-Request-ID"])
        if answer.status_code == 429:
            break
    return statuses, request_ids


def _sign_in_failures(
    gateway_url: str, admin_headers: dict[str, str], user_id: str, request_ids: list[str]
) -> list[dict[str, Any]]:
    """The audit records of these failed sign-ins, once all of them have arrived (the orders'
    audit API, fed through Kafka), and every other sign-in failure of the user."""
    deadline = time.monotonic() + 60
    while True:
        page = httpx.get(
            f"{gateway_url}/api/audit",
            params={"action": "user.sign_in_failed", "target": user_id, "limit": 200},
            headers=admin_headers,
            timeout=10,
        )
        assert page.status_code == 200, page.text
        records: list[dict[str, Any]] = page.json()["records"]
        if set(request_ids) <= {record["requestId"] for record in records}:
            return records
        assert time.monotonic() < deadline, "the sign-in failures never reached the audit log"
        time.sleep(0.5)


def assert_throttled_and_recorded_as(
    address: str,
    statuses: list[int],
    request_ids: list[str],
    gateway_url: str,
    admin_headers: dict[str, str],
    viewer_session: dict[str, Any],
) -> None:
    """The free failures were answered 401, the next one 429 (one client counted), and the audit
    log recorded every refused sign-in under ``address``."""
    assert statuses[:5] == [401] * 5
    assert statuses[-1] == 429, statuses
    records = _sign_in_failures(
        gateway_url, admin_headers, viewer_session["user"]["id"], request_ids
    )
    ours = [record for record in records if record["requestId"] in request_ids]
    assert {record["clientAddress"] for record in ours} == {address}


def _is_an_address(text: str | None) -> bool:
    try:
        ip_address(text or "")
    except ValueError:
        return False
    return True


def test_a_forged_x_forwarded_for_neither_dodges_the_sign_in_throttle_nor_reaches_the_audit_log(
    gateway_url: str,
    credentials: dict[str, tuple[str, str]],
    admin_headers: dict[str, str],
    viewer_session: dict[str, Any],
) -> None:
    email = credentials["viewer"][0]
    transport = httpx.HTTPTransport(local_address=UNTRUSTED_CLIENT)
    with httpx.Client(transport=transport, timeout=10) as client:
        statuses, request_ids = _wrong_passwords_until_throttled(
            client, gateway_url, email, FORGED_FORWARDED_FOR
        )

    # LOGIN_MAX_FAILURES (5) free failures, then the same client waits: the forged addresses
    # were never counted as clients of their own.
    assert_throttled_and_recorded_as(
        UNTRUSTED_CLIENT, statuses, request_ids, gateway_url, admin_headers, viewer_session
    )


def test_behind_a_trusted_proxy_the_address_it_saw_is_counted_not_what_the_client_wrote(
    gateway_url: str,
    credentials: dict[str, tuple[str, str]],
    admin_headers: dict[str, str],
    viewer_session: dict[str, Any],
) -> None:
    # The test profile's gateway trusts the proxy on 127.0.0.1 (the test itself): the proxy
    # appends the address it saw to whatever the client wrote.
    seen_by_the_proxy = ".".join(["198.18", *(str(b) for b in uuid.uuid4().bytes[:2])])
    chains = [f"{forged}, {seen_by_the_proxy}" for forged in FORGED_FORWARDED_FOR]
    with httpx.Client(timeout=10) as client:
        statuses, request_ids = _wrong_passwords_until_throttled(
            client, gateway_url, credentials["viewer"][0], chains
        )

    assert_throttled_and_recorded_as(
        seen_by_the_proxy, statuses, request_ids, gateway_url, admin_headers, viewer_session
    )


def test_a_forwarded_address_that_is_no_address_is_refused_and_never_stored(
    gateway_url: str,
    credentials: dict[str, tuple[str, str]],
    admin_headers: dict[str, str],
    viewer_session: dict[str, Any],
) -> None:
    email = credentials["viewer"][0]
    markup = "<img src=x onerror=alert(document.domain)>"
    refused = httpx.post(
        f"{gateway_url}/api/auth/login",
        json={"email": email, "password": "not-the-password"},
        headers={"X-Forwarded-For": markup},  # from the trusted proxy: believed, if an address
        timeout=10,
    )
    # A failure sent after it, so the audit log has caught up with the refused one by then.
    marker = httpx.post(
        f"{gateway_url}/api/auth/login",
        json={"email": email, "password": "not-the-password"},
        headers={"X-Forwarded-For": "198.18.255.1"},
        timeout=10,
    )

    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "invalid_forwarded_for"
    assert markup not in refused.text
    records = _sign_in_failures(
        gateway_url, admin_headers, viewer_session["user"]["id"], [marker.headers["X-Request-ID"]]
    )
    assert all(_is_an_address(record["clientAddress"]) for record in records), records


@pytest.mark.parametrize("target", ["gateway", *SERVICES_WITH_API, "mock_channels"])
def test_metrics_are_not_public(target: str, service_urls: dict[str, str]) -> None:
    url = f"{service_urls[target]}/metrics"
    # Through the trusted proxy from a caller outside (the gateway's ingress, or the gateway
    # in front of a service), and straight from the monitoring host.
    from_outside = httpx.get(url, headers={"X-Forwarded-For": "203.0.113.9"}, timeout=10)
    from_monitoring = httpx.get(url, timeout=10)

    assert from_outside.status_code == 403
    assert from_outside.json()["error"]["code"] == "forbidden"
    assert from_monitoring.status_code == 200
    assert "# TYPE" in from_monitoring.text


def test_the_services_metrics_are_not_reachable_through_the_gateway(gateway_url: str) -> None:
    for path in ("/api/metrics", "/api/orders/metrics", "/api/auth/metrics"):
        answer = httpx.get(f"{gateway_url}{path}", timeout=10)
        assert "# TYPE" not in answer.text, path


@pytest.mark.parametrize("target", ["gateway", *SERVICES_WITH_API])
def test_a_redirect_never_follows_a_forged_host_header(
    target: str, service_urls: dict[str, str]
) -> None:
    answer = httpx.get(
        f"{service_urls[target]}/healthz/", headers={"Host": "evil.example"}, timeout=10
    )

    if target != "gateway":  # the gateway may answer the path itself (its SPA)
        assert 300 <= answer.status_code < 400
    location = answer.headers.get("Location", "/")
    assert "evil.example" not in location
    assert location.startswith("/")
    assert not location.startswith("//")


def test_an_8_mb_header_is_cut_at_the_gateways_socket(stack: Stack, gateway_url: str) -> None:
    pid = stack.pid("gateway")
    assert pid is not None

    def peak_memory_kb() -> int:
        status = Path(f"/proc/{pid}/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+)", status).group(1))  # type: ignore[union-attr]

    httpx.get(f"{gateway_url}/api/health", timeout=10)
    before = peak_memory_kb()
    host, port = gateway_url.removeprefix("http://").split(":")
    answer = b""
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        with contextlib.suppress(ConnectionError):
            connection.sendall(b"GET /api/health HTTP/1.1\r\nHost: gw\r\nX-Big: ")
            for _ in range(128):
                connection.sendall(b"a" * 65_536)
        with contextlib.suppress(ConnectionError, TimeoutError):
            answer = connection.recv(65_536)
    time.sleep(0.5)

    assert answer == b"" or answer.startswith(b"HTTP/1.1 431"), answer[:100]
    assert peak_memory_kb() - before < 4096
