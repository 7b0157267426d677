"""The gateway's own Prometheus metrics, next to the HTTP ones every service exposes."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

CACHE_LOOKUPS = Counter(
    "gateway_cache_lookups_total", "Order reads looked up in the response cache", ["result"]
)
RATE_LIMITED = Counter("gateway_rate_limited_total", "Requests refused by a rate limit", ["scope"])
UPSTREAM_UNAVAILABLE = Counter(
    "gateway_upstream_unavailable_total",
    "Requests answered 503 because the service behind the route did not answer",
    ["upstream"],
)
ORDER_EVENTS = Counter(
    "gateway_order_events_total", "Order events consumed for the SSE feed", ["event_type"]
)
SSE_CLIENTS = Gauge("gateway_sse_clients", "Clients connected to the event stream")
SSE_RESETS = Counter(
    "gateway_sse_resets_total",
    "Event-stream clients told to refetch once: they fell behind the replay ring, or resumed "
    "from an id it no longer holds",
)
EDGE_SHED = Counter(
    "gateway_edge_shed_total",
    "API calls refused at once because the gateway had GATEWAY_MAX_IN_FLIGHT calls in flight",
)
UPSTREAM_SHED = Counter(
    "gateway_upstream_shed_total",
    "Requests answered 503 at once because their service had no free slot",
    ["upstream"],
)
UPSTREAM_CIRCUIT = Gauge(
    "gateway_upstream_circuit_state",
    "Circuit of the breaker in front of a service: 0 closed, 1 half open, 2 open",
    ["upstream"],
)
UPSTREAM_CIRCUIT_OPENED = Gauge(
    "gateway_upstream_circuit_opened_timestamp_seconds",
    "Unix time the breaker in front of a service left closed; 0 while it is closed",
    ["upstream"],
)
