"""Tags (a filter), and the customer's phone and email (the customer view), on order rows.

Existing rows get empty tags and their customer from their document; search_text gains tags,
notes and shipment only as orders change or the projection is rebuilt (none had any before).

Revision ID: 0003_tags_and_customer
Revises: 0002_bulk_exports_views_audit
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003_tags_and_customer"
down_revision = "0002_bulk_exports_views_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "order_rows",
        sa.Column(
            "tags", postgresql.ARRAY(sa.Text()), nullable=False, server_default=sa.text("'{}'")
        ),
    )
    op.add_column("order_rows", sa.Column("customer_phone", sa.Text(), nullable=True))
    op.add_column("order_rows", sa.Column("customer_email", sa.Text(), nullable=True))
    op.execute(
        "UPDATE order_rows SET customer_phone = document->'customer'->>'phone', "
        "customer_email = lower(document->'customer'->>'email')"
    )
    op.alter_column("order_rows", "customer_phone", nullable=False)
    # Orders carrying all of some tags: tags @> ARRAY[...].
    op.create_index("order_rows_tags", "order_rows", ["tags"], postgresql_using="gin")
    # A customer's other orders, newest first, by phone or by email.
    op.create_index(
        "order_rows_customer_phone", "order_rows", ["customer_phone", "placed_at", "id"]
    )
    op.create_index(
        "order_rows_customer_email", "order_rows", ["customer_email", "placed_at", "id"]
    )


def downgrade() -> None:
    op.drop_index("order_rows_customer_email", "order_rows")
    op.drop_index("order_rows_customer_phone", "order_rows")
    op.drop_index("order_rows_tags", "order_rows")
    op.drop_column("order_rows", "customer_email")
    op.drop_column("order_rows", "customer_phone")
    op.drop_column("order_rows", "tags")
