"""The query side's tables (SQLAlchemy Core): the schema Alembic's migrations create, as this
code reads and writes it.
"""

from __future__ import annotations

import hashlib

import orjson
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Double,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TIMESTAMP

from orderhub_common.events import Order

metadata = MetaData()

order_rows = Table(
    "order_rows",
    metadata,
    Column("id", Text, primary_key=True),
    Column("revision", Integer, nullable=False),
    Column("channel", Text, nullable=False),
    Column("external_id", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("total", Double, nullable=False),
    Column("currency", Text, nullable=False),
    Column("placed_at", TIMESTAMP(timezone=True), nullable=False),
    Column("updated_at", TIMESTAMP(timezone=True), nullable=False),
    Column("search_text", Text, nullable=False),
    Column("document", JSONB, nullable=False),
    Column("projected_at", TIMESTAMP(timezone=True), nullable=False),
    Column("tags", ARRAY(Text), nullable=False),
    Column("customer_phone", Text, nullable=False),
    Column("customer_email", Text, nullable=True),
    Column("document_layout", Text, nullable=False),
)

# The shape of ``Order`` as this code serves it: a row written under another is served only after
# it is read into today's ``Order`` (a field added since gets its default).
ORDER_DOCUMENT_LAYOUT = hashlib.sha256(
    orjson.dumps(Order.model_json_schema(), option=orjson.OPT_SORT_KEYS)
).hexdigest()[:16]

order_day_counts = Table(
    "order_day_counts",
    metadata,
    Column("day", Date, primary_key=True),  # the UTC day the order was placed
    Column("channel", Text, primary_key=True),
    Column("status", Text, primary_key=True),
    Column("currency", Text, primary_key=True),
    Column("orders", BigInteger, nullable=False),
    Column("revenue", Double, nullable=False),
)

# How many orders carry each tag, moved along with the rows: the tag picker's list without a
# pass over the orders.
order_tag_counts = Table(
    "order_tag_counts",
    metadata,
    Column("tag", Text, primary_key=True),
    Column("orders", BigInteger, nullable=False),
)

dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", Text, primary_key=True),
    Column("dead_lettered_at", TIMESTAMP(timezone=True), nullable=False),
    Column("error_type", Text, nullable=False),
    Column("error", Text, nullable=False),
    Column("original_topic", Text),
    Column("original_partition", Integer),
    Column("original_offset", BigInteger),
    Column("key", Text),
    Column("headers", JSONB, nullable=False),
    Column("payload", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("resolved_at", TIMESTAMP(timezone=True)),
    Column("resolved_by", Text),
    Column("reason", Text),
)


# Working on many orders: jobs, export files, saved views and the audit log --------------------
# Background jobs keep their state and per-order progress here, so a restarted (or another)
# replica resumes them where they stood; see ``jobs/runner.py``.

jobs = Table(
    "jobs",
    metadata,
    Column("id", Text, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("created_at", TIMESTAMP(timezone=True), nullable=False),
    Column("updated_at", TIMESTAMP(timezone=True), nullable=False),
    Column("finished_at", TIMESTAMP(timezone=True)),
    Column("params", JSONB, nullable=False),
    Column("total", Integer, nullable=False),
    Column("processed", Integer, nullable=False),
    Column("moved", Integer, nullable=False),
    Column("refused", Integer, nullable=False),
    Column("cancel_requested", Boolean, nullable=False),
    Column("error", Text),
    Column("lease_owner", Text),
    Column("lease_until", TIMESTAMP(timezone=True)),
    # When an export's file (its chunks) was deleted, past its retention.
    Column("files_deleted_at", TIMESTAMP(timezone=True)),
)

job_items = Table(
    "job_items",
    metadata,
    Column("job_id", Text, primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("order_id", Text, nullable=False),
    Column("outcome", Text),
    Column("reason", Text),
    Column("from_status", Text),
    # Why the order was refused, in the server's words (the reason column holds its code).
    Column("message", Text),
)

export_chunks = Table(
    "export_chunks",
    metadata,
    Column("job_id", Text, primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("data", LargeBinary, nullable=False),
)

saved_views = Table(
    "saved_views",
    metadata,
    Column("id", Text, primary_key=True),
    Column("owner_id", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("shared", Boolean, nullable=False),
    Column("is_default", Boolean, nullable=False),
    Column("query", JSONB, nullable=False),
    Column("columns", JSONB, nullable=False),
    Column("page_size", Integer),
    Column("created_at", TIMESTAMP(timezone=True), nullable=False),
    Column("updated_at", TIMESTAMP(timezone=True), nullable=False),
)

audit_records = Table(
    "audit_records",
    metadata,
    Column("event_id", Text, primary_key=True),
    Column("occurred_at", TIMESTAMP(timezone=True), nullable=False),
    Column("recorded_at", TIMESTAMP(timezone=True), nullable=False),
    Column("service", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("outcome", Text, nullable=False),
    Column("actor_id", Text),
    Column("actor_email", Text),
    Column("target", Text),
    Column("client_address", Text),
    Column("request_id", Text),
    Column("correlation_id", Text),
    Column("details", JSONB, nullable=False),
)
