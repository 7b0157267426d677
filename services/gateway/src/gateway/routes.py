"""The route table: which service answers an ``/api`` path, and who may call it at the edge.

Pure functions only, so the whole mapping is unit tested. Services check roles again; the edge
is the first line, and it turns away unauthenticated and under-privileged calls before they cost
a service anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, StrEnum
from urllib.parse import quote


class Upstream(StrEnum):
    AUTH = "auth"
    ORDERS = "orders"
    INGEST = "ingest"


class Access(Enum):
    PUBLIC = "public"
    SIGNED_IN = "signed_in"
    ADMIN = "admin"


@dataclass(frozen=True)
class RouteMatch:
    upstream: Upstream
    path: str
    """The path on the upstream service, each segment percent-encoded."""
    access: Access
    cacheable: bool = False
    """An order read whose response is kept in the cache."""
    changes_orders: bool = False
    """An order write: when it succeeds, no later read finds an answer from before it."""
    order_id: str | None = None
    """The one order an order write changes: set for a status move, a note and a tags change
    (the writes of a single order); any other order write may change any order."""
    timeout_s: float | None = None
    """How long the service may take to answer, when longer than the edge's usual timeout."""
    streams: bool = False
    """A file passed through as it arrives (an export's CSV), never held whole in memory."""


# A page of orders moved at once, and a large export's file, take longer than one order read.
BULK_MOVE_TIMEOUT_S = 60.0
DOWNLOAD_TIMEOUT_S = 120.0

_PUBLIC_AUTH_PATHS = frozenset({("auth", "login"), ("auth", "refresh")})
_READ_METHODS = frozenset({"GET", "HEAD"})
# Writes of one order: (method, what follows the order id).
_SINGLE_ORDER_WRITES = frozenset({("PATCH", "status"), ("PATCH", "tags"), ("POST", "notes")})
_CHANNEL_ACTIONS = frozenset({"pause", "resume"})


def resolve(method: str, api_path: str) -> RouteMatch | None:
    """Maps ``api_path`` (the part after ``/api``) to its service, or None if nothing serves it."""
    segments = _segments(api_path)
    if not segments:
        return None
    upstream_path = "/" + "/".join(quote(segment, safe="-._~:@!$&'()*+,;=") for segment in segments)
    head, rest = segments[0], segments[1:]
    method = method.upper()
    if head == "auth" and rest:
        access = Access.PUBLIC if tuple(segments) in _PUBLIC_AUTH_PATHS else Access.SIGNED_IN
        return RouteMatch(Upstream.AUTH, upstream_path, access)
    if head == "users":
        return RouteMatch(Upstream.AUTH, upstream_path, Access.ADMIN)
    if head == "orders":
        if method in _READ_METHODS:
            return RouteMatch(
                Upstream.ORDERS,
                upstream_path,
                Access.SIGNED_IN,
                cacheable=method == "GET" and len(rest) <= 1,
            )
        # Viewers only read: every order write is an admin's.
        return RouteMatch(
            Upstream.ORDERS,
            upstream_path,
            Access.ADMIN,
            changes_orders=True,
            order_id=rest[0]
            if len(rest) == 2 and (method, rest[1]) in _SINGLE_ORDER_WRITES
            else None,
        )
    if head == "dead-letters":
        # Dead letters carry whole customer records and replaying one writes orders: admins only.
        return RouteMatch(
            Upstream.ORDERS, upstream_path, Access.ADMIN, changes_orders=method == "POST"
        )
    if head == "channels" and not rest:
        return RouteMatch(Upstream.INGEST, upstream_path, Access.SIGNED_IN)
    if head == "channels" and len(rest) == 2 and rest[1] in _CHANNEL_ACTIONS:
        # Pausing and resuming a channel's ingestion is an operator's act.
        return RouteMatch(Upstream.INGEST, upstream_path, Access.ADMIN)
    return _work_on_many_orders(method, head, rest, upstream_path)


def _work_on_many_orders(
    method: str, head: str, rest: list[str], upstream_path: str
) -> RouteMatch | None:
    """Bulk moves (admins), jobs and exports (admins and viewers: a viewer's own exports),
    saved views (everyone signed in; sharing is an admin's, checked by orders) and the audit
    log (admins)."""
    if head == "bulk-moves" and not rest and method == "POST":
        # May move any order: no cached read from before it is served after it.
        return RouteMatch(
            Upstream.ORDERS,
            upstream_path,
            Access.ADMIN,
            changes_orders=True,
            timeout_s=BULK_MOVE_TIMEOUT_S,
        )
    if head == "jobs" and len(rest) == 1 and method in _READ_METHODS:
        return RouteMatch(Upstream.ORDERS, upstream_path, Access.SIGNED_IN)
    if head == "jobs" and rest[1:] == ["items"] and method in _READ_METHODS:
        return RouteMatch(Upstream.ORDERS, upstream_path, Access.ADMIN)
    if head == "jobs" and rest[1:] == ["cancel"] and method == "POST":
        return RouteMatch(Upstream.ORDERS, upstream_path, Access.SIGNED_IN)
    if head == "exports" and not rest and method == "POST":
        return RouteMatch(Upstream.ORDERS, upstream_path, Access.SIGNED_IN)
    if head == "exports" and rest[1:] == ["download"] and method in _READ_METHODS:
        # The link is its own credential: signed by orders, short-lived, for one file.
        return RouteMatch(
            Upstream.ORDERS,
            upstream_path,
            Access.PUBLIC,
            timeout_s=DOWNLOAD_TIMEOUT_S,
            streams=True,
        )
    if head == "views" and len(rest) <= 1:
        return RouteMatch(Upstream.ORDERS, upstream_path, Access.SIGNED_IN)
    if head == "audit" and not rest and method in _READ_METHODS:
        return RouteMatch(Upstream.ORDERS, upstream_path, Access.ADMIN)
    return None


def _segments(api_path: str) -> list[str] | None:
    """The path's segments; None for dot segments, which could step outside the routed prefix."""
    segments = api_path.strip("/").split("/")
    if segments == [""]:
        return None
    if any(segment in {"", ".", ".."} for segment in segments):
        return None
    return segments
