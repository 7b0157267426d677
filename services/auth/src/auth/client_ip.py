"""Which address a sign-in comes from, for per-address brute-force limits."""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address


def _is_trusted(address: str, proxies: Sequence[IPv4Network | IPv6Network]) -> bool:
    try:
        parsed = ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in proxies)


def resolve_client_ip(
    peer: str, forwarded_for: str | None, proxies: Sequence[IPv4Network | IPv6Network]
) -> str:
    """The peer, unless the peer is a trusted proxy: then the nearest X-Forwarded-For hop that
    is not itself a trusted proxy. Hops further out could be written by the client itself.
    """
    if not forwarded_for or not _is_trusted(peer, proxies):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",")]
    for hop in reversed(hops):
        if not _is_trusted(hop, proxies):
            return hop if _is_address(hop) else peer
    return hops[0]


def _is_address(value: str) -> bool:
    try:
        ip_address(value)
    except ValueError:
        return False
    return True
