"""Why each refused order of a bulk move was refused, in the server's words, kept beside its
code, so a job's results say it as the single move does; and orders by external id, how an
admin names an order in the audit log's search.

Revision ID: 0008_job_item_messages
Revises: 0007_export_retention
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_job_item_messages"
down_revision = "0007_export_retention"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("job_items", sa.Column("message", sa.Text(), nullable=True))
    op.create_index("order_rows_external_id", "order_rows", ["external_id"])


def downgrade() -> None:
    op.drop_index("order_rows_external_id", table_name="order_rows")
    op.drop_column("job_items", "message")
