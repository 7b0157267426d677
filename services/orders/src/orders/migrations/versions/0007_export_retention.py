"""Export retention: when an export's file was deleted, and the index the retention sweep walks
(exports whose files are still kept, by when they finished), so it never reads every job.

Revision ID: 0007_export_retention
Revises: 0006_order_day_counts
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007_export_retention"
down_revision = "0006_order_day_counts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "jobs", sa.Column("files_deleted_at", postgresql.TIMESTAMP(timezone=True), nullable=True)
    )
    op.create_index(
        "jobs_export_files_kept",
        "jobs",
        ["finished_at"],
        postgresql_where=sa.text("kind = 'export' AND files_deleted_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("jobs_export_files_kept", table_name="jobs")
    op.drop_column("jobs", "files_deleted_at")
