"""The GIN indexes of search and tags keep a short list of pending entries.

Every change of an order is a new row version in every index of ``order_rows`` (status and
update time are indexed, so no update is HOT), and a GIN index first appends the new entries to
its pending list, merging them into the index only once the list passes
``gin_pending_list_limit`` (4 MB by default). Every search reads the whole pending list: at
212,000 orders with orders flowing in, 270-360 pending pages cost each search about 1.5 ms, most
of a search for an external id. 256 kB keeps that under a tenth, and merges a few dozen entries
at a time.

Revision ID: 0010_gin_pending_lists
Revises: 0009_keyset_and_tags
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0010_gin_pending_lists"
down_revision = "0009_keyset_and_tags"
branch_labels = None
depends_on = None

_INDEXES = ("order_rows_search_text_trgm", "order_rows_tags")


def upgrade() -> None:
    for index in _INDEXES:
        op.execute(f"ALTER INDEX {index} SET (gin_pending_list_limit = 256)")


def downgrade() -> None:
    for index in _INDEXES:
        op.execute(f"ALTER INDEX {index} RESET (gin_pending_list_limit)")
