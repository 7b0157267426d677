"""Prometheus metrics of ingest (served at ``/metrics`` with the HTTP ones)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

ORDERS_POLLED = Counter(
    "ingest_orders_polled_total", "Native orders read from a channel feed", ["channel"]
)
ORDERS_PUBLISHED = Counter(
    "ingest_orders_published_total",
    "Ingested events acknowledged by Kafka on orders.ingested.v1",
    ["channel"],
)
NORMALIZATION_FAILURES = Counter(
    "ingest_normalization_failures_total",
    "Native orders skipped because they could not be normalized",
    ["channel"],
)
POLL_FAILURES = Counter(
    "ingest_poll_failures_total", "Feed reads that failed after retries", ["channel"]
)
FALLBACK_PAGES = Counter(
    "ingest_fallback_pages_total",
    "Times the cached last good page was republished while a channel failed",
    ["channel"],
)
NEW_ORDERS_FOUND = Counter(
    "ingest_new_orders_found_total",
    "New orders published ahead of a feed's backlog by the look for orders by placement",
    ["channel"],
)
LANE_PUBLISHED = Counter(
    "ingest_lane_published_total",
    "Ingested events published, by lane (live: orders.ingested.v1; history: "
    "orders.ingested.history.v1)",
    ["lane"],
)
FEED_BEHIND = Gauge(
    "ingest_feed_behind_seconds",
    "How far behind its channel's feed a poller is: the age of the oldest change on the page "
    "just read while more pages follow; 0 once it read the last page",
    ["channel"],
)
CIRCUIT_STATE = Gauge(
    "ingest_circuit_state", "Circuit of a channel: 0 closed, 1 half open, 2 open", ["channel"]
)
CIRCUIT_OPENED = Gauge(
    "ingest_circuit_opened_timestamp_seconds",
    "Unix time a channel's circuit left closed (open or half open since); 0 while it is closed",
    ["channel"],
)
LAST_SUCCESS = Gauge(
    "ingest_last_success_timestamp_seconds",
    "Unix time of the last successful poll of a channel",
    ["channel"],
)
PAUSED = Gauge(
    "ingest_channel_paused",
    "1 while a channel's ingestion is paused (by config or by an admin)",
    ["channel"],
)

# The counters a poller starts at 0 for its channel (``ChannelPoller.export_known_state``).
CHANNEL_COUNTERS = (
    ORDERS_POLLED,
    ORDERS_PUBLISHED,
    NEW_ORDERS_FOUND,
    NORMALIZATION_FAILURES,
    POLL_FAILURES,
    FALLBACK_PAGES,
)
WEBHOOKS = Counter(
    "ingest_shopify_webhooks_total",
    "Shopify order webhooks received, by outcome (published, duplicate, paused, ignored, "
    "invalid_signature)",
    ["outcome"],
)
