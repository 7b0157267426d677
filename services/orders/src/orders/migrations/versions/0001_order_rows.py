"""The query side: order rows with an index for every query shape, and running counts.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TIMESTAMP = postgresql.TIMESTAMP(timezone=True)


def upgrade() -> None:
    # A trusted extension: the database's owner may create it, no superuser needed.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        "order_rows",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("external_id", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("total", sa.Double(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("placed_at", _TIMESTAMP, nullable=False),
        sa.Column("updated_at", _TIMESTAMP, nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("document", postgresql.JSONB(), nullable=False),
        sa.Column("projected_at", _TIMESTAMP, nullable=False),
    )
    # Each sort ends with id, so a page is one walk of one index, forwards or backwards.
    for column in ("placed_at", "total", "updated_at", "status", "channel"):
        op.create_index(f"order_rows_{column}_id", "order_rows", [column, "id"])
    # The dashboard's usual views: one status or channel, newest first.
    for column in ("status", "channel"):
        op.create_index(
            f"order_rows_{column}_placed_at_id", "order_rows", [column, "placed_at", "id"]
        )
    # Counts and revenue by channel, status and currency from the index alone.
    op.create_index(
        "order_rows_stats",
        "order_rows",
        ["channel", "status", "currency"],
        postgresql_include=["total"],
    )
    # Running totals per (channel, status, currency), kept by every projection write: the
    # dashboard's figures and the counts of channel and status filters without a scan.
    op.create_table(
        "order_counts",
        sa.Column("channel", sa.Text(), primary_key=True),
        sa.Column("status", sa.Text(), primary_key=True),
        sa.Column("currency", sa.Text(), primary_key=True),
        sa.Column("orders", sa.BigInteger(), nullable=False),
        sa.Column("revenue", sa.Double(), nullable=False),
    )
    # Substring search: LIKE '%text%' through trigrams.
    op.create_index(
        "order_rows_search_text_trgm",
        "order_rows",
        ["search_text"],
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )


def downgrade() -> None:
    op.drop_table("order_counts")
    op.drop_table("order_rows")
