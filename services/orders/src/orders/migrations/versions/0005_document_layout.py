"""The layout of each row's ``document``: the order's JSON, served as it is only when it has
today's shape.

Existing rows get no layout, so they are served in today's shape (read into ``Order`` and written
out again, defaults filled in) until their order changes or the projection is rebuilt.

Revision ID: 0005_document_layout
Revises: 0004_dead_letters
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_document_layout"
down_revision = "0004_dead_letters"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "order_rows",
        sa.Column("document_layout", sa.Text(), nullable=False, server_default=sa.text("''")),
    )


def downgrade() -> None:
    op.drop_column("order_rows", "document_layout")
