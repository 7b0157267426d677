"""The query side: every list, search, count and stats query, answered by PostgreSQL indexes.

MongoDB stays the system of record; this package keeps an indexed projection of it in
PostgreSQL, one row per order, and is the only code that touches PostgreSQL. A row holds the
columns queries filter and sort on, the order as the API serves it (``document``), and the
order's ``revision``. Rows are written by ``project``, an upsert that applies a row only when it
is newer than the one stored, so every feed of it may deliver late, twice or out of order:

- the orders service projects each change right after writing it to MongoDB, so an admin's own
  status move is in the very next list read (read your writes);
- the ingested-orders consumer projects every order of a batch before committing its offsets,
  so a crash between the MongoDB write and this one is healed by the redelivery;
- the outbox relay projects each order whose events it publishes, read back from MongoDB, so a
  change whose process died before projecting it still arrives;
- ``orders-rebuild-query-side`` rewrites every row from MongoDB.

Search is a literal, case-insensitive substring of ``search_text`` (ids, customer, SKUs and item
names, tags, notes, carrier and tracking number, normalized), served by a trigram index: ``%``,
``_`` and ``\\`` match themselves. The tag filter is ``tags @> ...`` under a GIN index; a
customer's orders are found by phone or email, each under its own index.

Totals and stats not narrowed by a search or a tag are added up from running counts per UTC day
of placement (``order_day_counts``), moved along in the same transaction as the rows: a date range
adds its whole days from there and reads from the rows only the part days at its two ends, so
its cost grows with the days it spans, not with the orders stored.

Writers on every replica project side by side: a write queues only behind writes of the same
orders (an advisory lock per order) and, for the moment it takes to commit, behind writes that
move the same day count (a row lock per count). Each takes its order locks first, then its
count rows, each set in one fixed order, so no two writers wait for each other in a circle.

- ``tables``: the tables, as SQLAlchemy Core sees them (Alembic's migrations create them);
- ``order_queries``: the statements of lists, search, counts and stats (pure);
- ``projection``: ``QuerySide``, the engine, the one write (``project``) and the reads;
- ``lag``: ``ProjectionLag``, whether the query side may show an order from before its latest
  change (while PostgreSQL is away, and until the relay's sweep has projected what waited);
- ``dead_letter_rows``: the dead letters' table, a part of ``QuerySide``;
- ``work_store``: ``WorkStore``, the tables of jobs, export chunks, saved views and the audit log.
"""

from orders.query_side.lag import ProjectionLag
from orders.query_side.order_queries import (
    DaySplit,
    OrderPageRows,
    ServedOrder,
    count_statement,
    filters,
    fold_stats,
    search_terms,
    search_text,
    split_by_day,
    stats_statement,
    totals_by_group,
)
from orders.query_side.projection import (
    QUERY_SIDE_FAILURES,
    ProjectedOrder,
    QuerySide,
)
from orders.query_side.tables import (
    export_chunks,
    metadata,
    order_day_counts,
    order_rows,
)
from orders.query_side.work_store import (
    UNFINISHED_JOB_STATES,
    ExportLimitReached,
    WorkStore,
)

__all__ = [
    "QUERY_SIDE_FAILURES",
    "UNFINISHED_JOB_STATES",
    "DaySplit",
    "ExportLimitReached",
    "OrderPageRows",
    "ProjectedOrder",
    "ProjectionLag",
    "QuerySide",
    "ServedOrder",
    "WorkStore",
    "count_statement",
    "export_chunks",
    "filters",
    "fold_stats",
    "metadata",
    "order_day_counts",
    "order_rows",
    "search_terms",
    "search_text",
    "split_by_day",
    "stats_statement",
    "totals_by_group",
]
