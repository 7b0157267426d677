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

_ANY: frozenset[str] = frozenset()
_READ = frozenset({"GET", "HEAD"})
_GET = frozenset({"GET"})
_POST = frozenset({"POST"})
_PATCH = frozenset({"PATCH"})


@dataclass(frozen=True)
class Rule:
    """One row of the route table: the calls it matches, and what the match is.

    ``pattern``'s segments: a literal, ``*`` (any one segment), ``{order}`` (any one segment,
    the order a single-order write changes) or a last ``**`` (any number of segments, none too).
    """

    methods: frozenset[str]
    """Empty: any method."""
    pattern: str
    upstream: Upstream
    access: Access
    cacheable: bool = False
    changes_orders: bool = False
    timeout_s: float | None = None
    streams: bool = False

    def order_id(self, segments: list[str]) -> str | None:
        """The ``{order}`` segment of a path this rule matches, if it names one."""
        for part, segment in zip(self.pattern.split("/"), segments, strict=False):
            if part == "{order}":
                return segment
        return None

    def matches(self, method: str, segments: list[str]) -> bool:
        if self.methods and method not in self.methods:
            return False
        parts = self.pattern.split("/")
        if parts[-1] == "**":
            parts = parts[:-1]
            if len(segments) < len(parts):
                return False
        elif len(segments) != len(parts):
            return False
        return all(
            part in {"*", "{order}"} or part == segment
            for part, segment in zip(parts, segments, strict=False)
        )


_AUTH, _ORDERS, _INGEST = Upstream.AUTH, Upstream.ORDERS, Upstream.INGEST
_PUBLIC, _SIGNED_IN, _ADMIN = Access.PUBLIC, Access.SIGNED_IN, Access.ADMIN

# The first rule that matches a call decides it; a call no rule matches is not served (404).
ROUTE_TABLE: tuple[Rule, ...] = (
    Rule(_ANY, "auth/login", _AUTH, _PUBLIC),
    Rule(_ANY, "auth/refresh", _AUTH, _PUBLIC),
    Rule(_ANY, "auth/*/**", _AUTH, _SIGNED_IN),
    # Who is who, by name, for everyone signed in (names only); the rest of users is admins'.
    Rule(_GET, "users/names", _AUTH, _SIGNED_IN),
    Rule(_ANY, "users/**", _AUTH, _ADMIN),
    # An order's detail, the list and the stats are kept in the cache.
    Rule(_GET, "orders", _ORDERS, _SIGNED_IN, cacheable=True),
    Rule(_GET, "orders/*", _ORDERS, _SIGNED_IN, cacheable=True),
    Rule(_READ, "orders/**", _ORDERS, _SIGNED_IN),
    # Viewers only read: every order write is an admin's. Writes of one order name it; any
    # other order write may change any order.
    Rule(_PATCH, "orders/{order}/status", _ORDERS, _ADMIN, changes_orders=True),
    Rule(_PATCH, "orders/{order}/tags", _ORDERS, _ADMIN, changes_orders=True),
    Rule(_POST, "orders/{order}/notes", _ORDERS, _ADMIN, changes_orders=True),
    Rule(_ANY, "orders/**", _ORDERS, _ADMIN, changes_orders=True),
    # Dead letters carry whole customer records and replaying one writes orders: admins only.
    Rule(_POST, "dead-letters/**", _ORDERS, _ADMIN, changes_orders=True),
    Rule(_ANY, "dead-letters/**", _ORDERS, _ADMIN),
    Rule(_ANY, "channels", _INGEST, _SIGNED_IN),
    # How far behind the pipeline is, per lane: asked often by every tab, answered from memory.
    Rule(_GET, "pipeline", _ORDERS, _SIGNED_IN),
    # Pausing and resuming a channel's ingestion is an operator's act.
    Rule(_ANY, "channels/*/pause", _INGEST, _ADMIN),
    Rule(_ANY, "channels/*/resume", _INGEST, _ADMIN),
    # A connection test signs in at the channel with the seller's credentials.
    Rule(_POST, "channels/*/connection-test", _INGEST, _ADMIN),
    # Shopify's order webhooks, from the internet: no JWT (Shopify has none); ingest checks the
    # body's HMAC signature before anything else (docs/CONNECTORS.md).
    Rule(_POST, "webhooks/shopify", _INGEST, _PUBLIC),
    # May move any order: no cached read from before it is served after it.
    Rule(
        _POST,
        "bulk-moves",
        _ORDERS,
        _ADMIN,
        changes_orders=True,
        timeout_s=BULK_MOVE_TIMEOUT_S,
    ),
    # Jobs and exports: admins' and viewers' (a viewer's own exports).
    Rule(_READ, "jobs/*", _ORDERS, _SIGNED_IN),
    Rule(_READ, "jobs/*/items", _ORDERS, _ADMIN),
    Rule(_POST, "jobs/*/cancel", _ORDERS, _SIGNED_IN),
    Rule(_POST, "exports", _ORDERS, _SIGNED_IN),
    # The link is its own credential: signed by orders, short-lived, for one file.
    Rule(
        _READ,
        "exports/*/download",
        _ORDERS,
        _PUBLIC,
        timeout_s=DOWNLOAD_TIMEOUT_S,
        streams=True,
    ),
    # Saved views: everyone signed in (sharing is an admin's, checked by orders).
    Rule(_ANY, "views", _ORDERS, _SIGNED_IN),
    Rule(_ANY, "views/*", _ORDERS, _SIGNED_IN),
    Rule(_READ, "audit", _ORDERS, _ADMIN),
    Rule(_READ, "audit/actions", _ORDERS, _ADMIN),
)


def resolve(method: str, api_path: str) -> RouteMatch | None:
    """Maps ``api_path`` (the part after ``/api``) to its service, or None if nothing serves it."""
    segments = _segments(api_path)
    if not segments:
        return None
    method = method.upper()
    rule = next((rule for rule in ROUTE_TABLE if rule.matches(method, segments)), None)
    if rule is None:
        return None
    upstream_path = "/" + "/".join(quote(segment, safe="-._~:@!$&'()*+,;=") for segment in segments)
    return RouteMatch(
        rule.upstream,
        upstream_path,
        rule.access,
        cacheable=rule.cacheable,
        changes_orders=rule.changes_orders,
        order_id=rule.order_id(segments),
        timeout_s=rule.timeout_s,
        streams=rule.streams,
    )


def _segments(api_path: str) -> list[str] | None:
    """The path's segments; None for dot segments, which could step outside the routed prefix."""
    segments = api_path.strip("/").split("/")
    if segments == [""]:
        return None
    if any(segment in {"", ".", ".."} for segment in segments):
        return None
    return segments
