"""Tags in use, counted as the rows change (the tag picker reads this instead of every order),
and saved views keep their rows per page.

Revision ID: 0009_keyset_and_tags
Revises: 0008_job_item_messages
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_keyset_and_tags"
down_revision = "0008_job_item_messages"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "order_tag_counts",
        sa.Column("tag", sa.Text(), primary_key=True),
        sa.Column("orders", sa.BigInteger(), nullable=False),
    )
    op.execute(
        "INSERT INTO order_tag_counts (tag, orders) "
        "SELECT tag, count(*) FROM order_rows, unnest(tags) AS tag GROUP BY tag"
    )
    op.add_column("saved_views", sa.Column("page_size", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("saved_views", "page_size")
    op.drop_table("order_tag_counts")
