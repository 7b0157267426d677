"""Dead letters: every event dead-lettered to ``orders.ingested.v1.dlq``, kept for an admin to
inspect, replay after a fix, or discard with a reason.

Revision ID: 0004_dead_letters
Revises: 0003_tags_and_customer
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004_dead_letters"
down_revision = "0003_tags_and_customer"
branch_labels = None
depends_on = None

_TIMESTAMP = postgresql.TIMESTAMP(timezone=True)


def upgrade() -> None:
    op.create_table(
        "dead_letters",
        # "<partition>-<offset>" on the dead-letter topic: a redelivered record is kept once.
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("dead_lettered_at", _TIMESTAMP, nullable=False),
        sa.Column("error_type", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("original_topic", sa.Text(), nullable=True),
        sa.Column("original_partition", sa.Integer(), nullable=True),
        sa.Column("original_offset", sa.BigInteger(), nullable=True),
        sa.Column("key", sa.Text(), nullable=True),
        sa.Column("headers", postgresql.JSONB(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        # pending, replayed or discarded
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("resolved_at", _TIMESTAMP, nullable=True),
        sa.Column("resolved_by", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
    )
    # The admin page: one state (usually pending), newest first.
    op.create_index(
        "dead_letters_state_dead_lettered_at",
        "dead_letters",
        ["state", "dead_lettered_at", "id"],
    )


def downgrade() -> None:
    op.drop_table("dead_letters")
