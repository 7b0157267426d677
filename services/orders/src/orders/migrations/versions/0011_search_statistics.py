"""The planner samples a thousand searchable texts, not a hundred, to judge a search.

PostgreSQL judges how many rows ``search_text LIKE '%diya%'`` matches by the share of the
column's histogram that matches, and never below one in ten thousand. With the default hundred
histogram entries, a fragment that one order in a hundred or fewer contains (a first name, the
start of an email) matched none of them: at 214,000 orders the planner expected 22 orders for
"diya" where 8,015 matched. It then read every match through the trigram index and sorted them
for a page of 20 (60 ms), where walking the newest orders down finds the page in under a
thousand rows (2 ms), and it judged every such search worth a capped count. A thousand entries
judge a fragment down to about one order in a thousand; planning reads them in under a
millisecond.

Revision ID: 0011_search_statistics
Revises: 0010_gin_pending_lists
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0011_search_statistics"
down_revision = "0010_gin_pending_lists"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE order_rows ALTER COLUMN search_text SET STATISTICS 1000")
    # At once, not at autovacuum's next look: a few seconds at 200,000 orders.
    op.execute("ANALYZE order_rows")


def downgrade() -> None:
    op.execute("ALTER TABLE order_rows ALTER COLUMN search_text SET STATISTICS -1")
