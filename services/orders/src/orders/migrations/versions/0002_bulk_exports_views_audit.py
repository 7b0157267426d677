"""Working on many orders: background jobs and their per-order progress, export files in
chunks, saved views, and the append-only audit log.

Revision ID: 0002_bulk_exports_views_audit
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002_bulk_exports_views_audit"
down_revision = "0001"
branch_labels = None
depends_on = None

_TIMESTAMP = postgresql.TIMESTAMP(timezone=True)


def upgrade() -> None:
    # A background job (a bulk status move over a view, a CSV export) and its progress.
    op.create_table(
        "jobs",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.Column("updated_at", _TIMESTAMP, nullable=False),
        sa.Column("finished_at", _TIMESTAMP, nullable=True),
        sa.Column("params", postgresql.JSONB(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("processed", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("moved", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("refused", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False, server_default="false"),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("lease_owner", sa.Text(), nullable=True),
        sa.Column("lease_until", _TIMESTAMP, nullable=True),
    )
    # The runner's look for work: unfinished jobs only.
    op.create_index(
        "jobs_unfinished",
        "jobs",
        ["created_at"],
        postgresql_where=sa.text("state IN ('queued', 'running')"),
    )
    op.create_index("jobs_created_by_created_at", "jobs", ["created_by", "created_at"])
    # One row per order a bulk move covers, in the view's order, with what became of it.
    op.create_table(
        "job_items",
        sa.Column("job_id", sa.Text(), sa.ForeignKey("jobs.id"), primary_key=True),
        sa.Column("position", sa.Integer(), primary_key=True),
        sa.Column("order_id", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("from_status", sa.Text(), nullable=True),
        sa.UniqueConstraint("job_id", "order_id", name="job_items_job_id_order_id"),
    )
    op.create_index(
        "job_items_pending",
        "job_items",
        ["job_id", "position"],
        postgresql_where=sa.text("outcome IS NULL"),
    )
    op.create_index("job_items_outcome", "job_items", ["job_id", "outcome", "position"])
    # An export's CSV, in chunks of rows: streamed out as it was written, whichever replica asks.
    op.create_table(
        "export_chunks",
        sa.Column("job_id", sa.Text(), sa.ForeignKey("jobs.id"), primary_key=True),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "saved_views",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("owner_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False, server_default="false"),
        sa.Column("is_default", sa.Boolean(), nullable=False, server_default="false"),
        sa.Column("query", postgresql.JSONB(), nullable=False),
        sa.Column("columns", postgresql.JSONB(), nullable=False),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.Column("updated_at", _TIMESTAMP, nullable=False),
        sa.UniqueConstraint("owner_id", "name", name="saved_views_owner_id_name"),
    )
    op.create_index(
        "saved_views_one_default",
        "saved_views",
        ["owner_id"],
        unique=True,
        postgresql_where=sa.text("is_default"),
    )
    op.create_index(
        "saved_views_shared", "saved_views", ["name"], postgresql_where=sa.text("shared")
    )
    # The audit log: one row per record, by its event id; appended to, never changed.
    op.create_table(
        "audit_records",
        sa.Column("event_id", sa.Text(), primary_key=True),
        sa.Column("occurred_at", _TIMESTAMP, nullable=False),
        sa.Column("recorded_at", _TIMESTAMP, nullable=False),
        sa.Column("service", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("actor_id", sa.Text(), nullable=True),
        sa.Column("actor_email", sa.Text(), nullable=True),
        sa.Column("target", sa.Text(), nullable=True),
        sa.Column("client_address", sa.Text(), nullable=True),
        sa.Column("request_id", sa.Text(), nullable=True),
        sa.Column("correlation_id", sa.Text(), nullable=True),
        sa.Column("details", postgresql.JSONB(), nullable=False),
    )
    # The page: newest first, alone or narrowed by action, actor, target or outcome.
    op.create_index("audit_records_occurred_at", "audit_records", ["occurred_at", "event_id"])
    for column in ("action", "actor_id", "target", "outcome"):
        op.create_index(
            f"audit_records_{column}_occurred_at",
            "audit_records",
            [column, "occurred_at", "event_id"],
        )
    # Append-only in the store itself, whatever code runs against it.
    op.execute(
        """
        CREATE FUNCTION audit_records_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit records are append-only';
        END;
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER audit_records_append_only BEFORE UPDATE OR DELETE ON audit_records "
        "FOR EACH ROW EXECUTE FUNCTION audit_records_append_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_records_no_truncate BEFORE TRUNCATE ON audit_records "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_records_append_only()"
    )


def downgrade() -> None:
    op.execute("DROP TABLE audit_records")
    op.execute("DROP FUNCTION audit_records_append_only()")
    op.drop_table("saved_views")
    op.drop_table("export_chunks")
    op.drop_table("job_items")
    op.drop_table("jobs")
