"""Every Prometheus metric the orders service declares (DEVELOPING.md: one metrics.py)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from orderhub_common.events import Channel

CONSUMED = Counter(
    "orders_ingested_consumed_total",
    "Ingested events consumed, by outcome (created, updated, unchanged, dead_lettered)",
    ["outcome"],
)

DEAD_LETTERED = Counter(
    "orders_dead_lettered_total",
    "Records sent to a dead-letter topic, by stream (ingested: order changes on "
    "orders.ingested.v1.dlq; audit: audit records on audit.v1.dlq) and error type",
    ["stream", "error_type"],
)

CONSUMER_LAG = Gauge(
    "orders_consumer_lag",
    "Ingested events of the live lane (orders.ingested.v1) not yet consumed by this replica "
    "(highwater - position, all partitions)",
)

LANE_WAITING = Gauge(
    "orders_lane_waiting",
    "Ingested events not yet processed by this replica, by lane (live: orders.ingested.v1; "
    "history: orders.ingested.history.v1)",
    ["lane"],
)

LANE_OLDEST_AGE = Gauge(
    "orders_lane_oldest_waiting_age_seconds",
    "Age of the oldest ingested event not yet processed, by lane: now minus the time ingest "
    "published it; 0 when none waits",
    ["lane"],
)

OUTBOX_PUBLISHED = Counter(
    "orders_outbox_published_total",
    "Order events published from the outbox to orders.events.v1, by event type",
    ["event_type"],
)

OUTBOX_PENDING = Gauge(
    "orders_outbox_pending",
    "Outbox entries not yet done with: order events to publish, and orders stored while the "
    "query side was away, to project",
)

PROJECTION_LAG = Gauge(
    "orders_query_side_lag_seconds",
    "Age of the newest change the last projection write applied (now - the order's updatedAt)",
)

PROJECTION_DEFERRED = Counter(
    "orders_projection_deferred_total",
    "Stored orders not projected at once (the query side was away); the outbox sweep does it",
)
PROJECTED = Histogram(
    "orders_query_side_projection_seconds",
    "Time from an order change (its updatedAt) to its row in the query side",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
)

UPSERTED = Counter(
    "orders_upserted_total",
    "Channel orders written to the store, by result (created, updated)",
    ["result"],
)

SKIPPED_STALE = Counter(
    "orders_skipped_stale_total",
    "Channel status changes ignored: 'stale' (equal or backwards) or 'forbidden' "
    "(no allowed path, e.g. SHIPPED to CANCELLED)",
    ["reason"],
)

WRITE_BACKS = Counter(
    "orders_write_backs_total",
    "Status moves sent to their channel, by channel and outcome (acknowledged, rejected, failed: "
    "a failed one is tried again). Alert on any rejected: the channel and Order Hub disagree.",
    ["channel", "outcome"],
)

WRITE_BACKS_PENDING = Gauge(
    "orders_write_backs_pending",
    "Status moves waiting for their channel's answer (counted now and then)",
)

WRITE_BACK_CIRCUIT = Gauge(
    "orders_write_back_circuit_state",
    "Each channel's write-back circuit: 0 closed, 1 half open, 2 open",
    ["channel"],
)

WRITE_BACK_OUTCOMES = ("acknowledged", "rejected", "failed")

STORED_ORDERS = Gauge(
    "orders_stored",
    "Orders in the store (MongoDB's estimated count, taken every minute)",
)
QUERY_SIDE_ORDERS = Gauge(
    "orders_query_side_rows",
    "Orders in the query side (its running counts per day added up, every minute); apart from "
    "orders_stored for long, the lists and stats miss orders or show ones that are gone",
)

# Each labelled series from 0 at start: an alert sees the first increment after a restart.
for _outcome in ("created", "updated", "unchanged", "dead_lettered"):
    CONSUMED.labels(_outcome)
for _channel in Channel:
    for _outcome in WRITE_BACK_OUTCOMES:
        WRITE_BACKS.labels(_channel.value, _outcome)
