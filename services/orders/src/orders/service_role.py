"""What the role the orders service works as may do in the query side's database.

The owner (the role that runs the migrations) grants it after every migration, in the same
transaction, so a table a later migration adds is covered at once (and by default privileges,
for tables the owner creates by hand). The service's role owns nothing and may create nothing:
only a table's owner may alter or drop it or disable its triggers, so the audit log's
append-only trigger holds against the service; on that table it may only read and append. It
may empty the projection tables: ``orders-rebuild-query-side`` truncates them, which removes
nothing DELETE could not (the projection is rebuilt from MongoDB and has no triggers).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

# The audit log: read and appended to, never changed or emptied.
AUDIT_TABLE = "audit_records"
# The projection ``QuerySide.clear`` empties with TRUNCATE.
PROJECTION_TABLES = ("order_rows", "order_day_counts", "order_tag_counts")
# Alembic's own record of the schema's revision: the owner's to change; the service reads it at
# start, to refuse a schema older than its release needs (``schema.py``).
ALEMBIC_TABLE = "alembic_version"

_GRANTS = (
    "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
    "GRANT USAGE ON SCHEMA public TO {role}",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA public"
    " GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {role}",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
    "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
    f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {AUDIT_TABLE} FROM {{role}}",
    f"REVOKE ALL ON {ALEMBIC_TABLE} FROM {{role}}",
    f"GRANT SELECT ON {ALEMBIC_TABLE} TO {{role}}",
)


def grant_to_service_role(connection: Connection, role: str) -> None:
    """Grants ``role`` what the service needs, and no more; idempotent. Nothing when ``role``
    is the owner itself (one role for both), which must keep what it owns."""
    if role == connection.execute(text("SELECT current_user")).scalar_one():
        return
    quoted = connection.dialect.identifier_preparer.quote(role)
    for statement in _GRANTS:
        connection.execute(text(statement.format(role=quoted)))
    # Those the schema's revision has: a migration to an earlier revision has fewer.
    truncated = [
        table
        for table in PROJECTION_TABLES
        if connection.execute(text("SELECT to_regclass(:table)"), {"table": table}).scalar()
    ]
    if truncated:
        connection.execute(text(f"GRANT TRUNCATE ON {', '.join(truncated)} TO {quoted}"))
