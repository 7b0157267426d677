"""One index walk per channel and status for every sort, merged into a filtered list's page.

A list filtered by channel or status and sorted by anything its filter's own index does not
order (amazon's PLACED and CONFIRMED orders by total) walked the sort's index and dropped every
row of another channel or status on the way: at 214,000 orders a page of 50 read 5,000 to
23,000 rows (10 to 50 ms), and the most recently updated blinkit orders, a sliver of the
oldest-updated end of the index, took the longest. With these indexes each (channel, status)
pair is a range in the sort's order, and a page merges one short walk per pair
(``orders.query_side.keyset``): 0.3 to 0.5 ms.

``(channel, status, id)`` serves the status and channel sorts, which within one pair order by
id alone.

Built at once, as the other migrations run (in one transaction): at 200,000 orders each index
takes about a second, during which order writes wait and reads go on.

Revision ID: 0012_channel_status_walks
Revises: 0011_search_statistics
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0012_channel_status_walks"
down_revision = "0011_search_statistics"
branch_labels = None
depends_on = None

# Index name -> the sort column after channel and status (None: id alone).
INDEXES = {
    "order_rows_channel_status_placed_at_id": "placed_at",
    "order_rows_channel_status_total_id": "total",
    "order_rows_channel_status_updated_at_id": "updated_at",
    "order_rows_channel_status_id": None,
}


def upgrade() -> None:
    for name, column in INDEXES.items():
        columns = ["channel", "status", *([column] if column else []), "id"]
        op.create_index(name, "order_rows", columns)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="order_rows")
