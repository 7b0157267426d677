from __future__ import annotations

from ipaddress import ip_network

import pytest

from auth.client_ip import resolve_client_ip

pytestmark = pytest.mark.unit

GATEWAY = [ip_network("127.0.0.1/32"), ip_network("10.0.0.0/8")]


def test_a_direct_caller_is_the_peer_whatever_it_claims() -> None:
    assert resolve_client_ip("203.0.113.5", "198.51.100.1", GATEWAY) == "203.0.113.5"


def test_behind_the_gateway_the_forwarded_client_counts() -> None:
    assert resolve_client_ip("127.0.0.1", "198.51.100.1", GATEWAY) == "198.51.100.1"


def test_a_client_cannot_pick_its_address_by_sending_its_own_header() -> None:
    # The client sent "X-Forwarded-For: 1.2.3.4"; the gateway appended the address it saw.
    forwarded = "1.2.3.4, 198.51.100.1"

    assert resolve_client_ip("127.0.0.1", forwarded, GATEWAY) == "198.51.100.1"


def test_trusted_hops_are_skipped() -> None:
    assert resolve_client_ip("127.0.0.1", "198.51.100.1, 10.1.2.3", GATEWAY) == "198.51.100.1"


def test_without_a_header_or_with_garbage_the_peer_counts() -> None:
    assert resolve_client_ip("127.0.0.1", None, GATEWAY) == "127.0.0.1"
    assert resolve_client_ip("127.0.0.1", "not-an-ip", GATEWAY) == "127.0.0.1"
