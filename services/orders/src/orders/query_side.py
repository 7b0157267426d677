"""The query side: every list, search, count and stats query, answered by PostgreSQL indexes.

MongoDB stays the system of record; this module keeps an indexed projection of it in
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
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ColumnElement,
    CompoundSelect,
    Date,
    Double,
    Integer,
    LargeBinary,
    MetaData,
    Select,
    Table,
    Text,
    cast,
    func,
    or_,
    select,
    text,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TIMESTAMP, array, insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from orderhub_common.events import Channel, Order, OrderStatus
from orderhub_common.logging import utc_now
from orderhub_common.resources import Resource
from orders import metrics
from orders.schema import asyncpg_url, migration_scripts, require_schema_revision
from orders.schemas import (
    AuditQuery,
    ChannelRevenue,
    DeadLetterRead,
    DeadLetterState,
    OrderFilters,
    OrderListQuery,
    OrderStats,
)

metadata = MetaData()

order_rows = Table(
    "order_rows",
    metadata,
    Column("id", Text, primary_key=True),
    Column("revision", Integer, nullable=False),
    Column("channel", Text, nullable=False),
    Column("external_id", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("total", Double, nullable=False),
    Column("currency", Text, nullable=False),
    Column("placed_at", TIMESTAMP(timezone=True), nullable=False),
    Column("updated_at", TIMESTAMP(timezone=True), nullable=False),
    Column("search_text", Text, nullable=False),
    Column("document", JSONB, nullable=False),
    Column("projected_at", TIMESTAMP(timezone=True), nullable=False),
    Column("tags", ARRAY(Text), nullable=False),
    Column("customer_phone", Text, nullable=False),
    Column("customer_email", Text, nullable=True),
    Column("document_layout", Text, nullable=False),
)

# The shape of ``Order`` as this code serves it: a row written under another is served only after
# it is read into today's ``Order`` (a field added since gets its default).
ORDER_DOCUMENT_LAYOUT = hashlib.sha256(
    orjson.dumps(Order.model_json_schema(), option=orjson.OPT_SORT_KEYS)
).hexdigest()[:16]

order_day_counts = Table(
    "order_day_counts",
    metadata,
    Column("day", Date, primary_key=True),  # the UTC day the order was placed
    Column("channel", Text, primary_key=True),
    Column("status", Text, primary_key=True),
    Column("currency", Text, primary_key=True),
    Column("orders", BigInteger, nullable=False),
    Column("revenue", Double, nullable=False),
)

dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", Text, primary_key=True),
    Column("dead_lettered_at", TIMESTAMP(timezone=True), nullable=False),
    Column("error_type", Text, nullable=False),
    Column("error", Text, nullable=False),
    Column("original_topic", Text),
    Column("original_partition", Integer),
    Column("original_offset", BigInteger),
    Column("key", Text),
    Column("headers", JSONB, nullable=False),
    Column("payload", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("resolved_at", TIMESTAMP(timezone=True)),
    Column("resolved_by", Text),
    Column("reason", Text),
)

SORT_COLUMNS = {
    "placedAt": order_rows.c.placed_at,
    "total": order_rows.c.total,
    "status": order_rows.c.status,
    "channel": order_rows.c.channel,
    "updatedAt": order_rows.c.updated_at,
}

# Orders per projection transaction, and rows per upsert statement: 15 parameters a row, well
# inside PostgreSQL's 32,767. A transaction holds one advisory lock per order: bounded so that
# every replica's writers together stay inside the server's lock table (64 per connection).
_ROWS_PER_STATEMENT = 500
# Every argument of one call locks in the order given: the keys come sorted.
_LOCK_ORDERS = text(
    "SELECT count(pg_advisory_xact_lock(key)) FROM unnest(CAST(:keys AS bigint[])) AS key"
)

# Lets a phone number be found however the admin types it: "+91 98765-43210" -> digits.
_PHONE_LIKE = re.compile(r"^[\d\s+().-]+$")
_MIN_PHONE_DIGITS = 3


@dataclass(frozen=True)
class ProjectedOrder:
    """An order as of one revision: what a query-side row is made from."""

    order: Order
    revision: int


@dataclass(frozen=True)
class OrderPageRows:
    """A page of orders as the API serves them (each order's JSON), and how many match.

    The list answers with this text as it is: parsing, validating and dumping 20 orders again
    would cost the orders service more CPU than everything else in a list call together.
    """

    documents: list[str]
    total: int

    @classmethod
    def of_rows(cls, rows: Iterable[tuple[str, str]], total: int) -> OrderPageRows:
        """From (layout, document text) pairs: a document of another layout is served in
        today's shape."""
        return cls(
            [
                document
                if layout == ORDER_DOCUMENT_LAYOUT
                else Order.model_validate_json(document).model_dump_json()
                for layout, document in rows
            ],
            total,
        )

    @property
    def orders(self) -> list[Order]:
        return [Order.model_validate_json(document) for document in self.documents]


def normalize_text(value: str) -> str:
    return " ".join(value.casefold().split())


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def search_text(order: Order) -> str:
    """What a search looks in, one normalized field a line. A search never contains a line
    break (the API refuses control characters), so it never matches across two fields."""
    customer = order.customer
    fields = [order.id, order.external_id, customer.name, customer.phone, _digits(customer.phone)]
    fields.append(customer.email or "")
    for item in order.items:
        fields += [item.sku, item.name]
    fields += order.tags
    fields += [note.text for note in order.notes]
    if order.shipment is not None:
        fields += [order.shipment.carrier, order.shipment.tracking_number]
    return "\n".join(normalize_text(f) for f in fields if f)


def search_terms(search: str) -> list[str]:
    """The texts a search looks for: the normalized text and, when it looks like a phone number,
    its digits too ("402-1234567" may be an Amazon order id as well as a phone)."""
    terms = [normalize_text(search)]
    digits = _digits(search)
    if _PHONE_LIKE.match(search) and len(digits) >= _MIN_PHONE_DIGITS:
        terms.append(digits)
    return sorted({term for term in terms if term})


def filters(query: OrderFilters) -> list[ColumnElement[bool]]:
    """The WHERE conditions of a list query; user text only ever becomes a bound literal."""
    conditions = _channel_and_status(order_rows, query)
    terms = search_terms(query.search or "")
    if terms:
        # autoescape: %, _ and the escape character itself match only themselves.
        conditions.append(
            or_(*(order_rows.c.search_text.contains(t, autoescape=True) for t in terms))
        )
    if query.tag:
        wanted = sorted({" ".join(t.casefold().split()) for t in query.tag})
        conditions.append(order_rows.c.tags.contains(cast(array(wanted), ARRAY(Text))))
    if query.placed_from is not None:
        conditions.append(order_rows.c.placed_at >= query.placed_from)
    if query.placed_to is not None:
        conditions.append(order_rows.c.placed_at <= query.placed_to)
    return conditions


def counted_by_day(query: OrderFilters) -> DaySplit | None:
    """How the day counts answer this query's totals; None when a search or a tag narrows it,
    or its placement range holds no whole day (the rows answer it)."""
    if search_terms(query.search or "") or query.tag:
        return None
    return split_by_day(query.placed_from, query.placed_to)


def _midnight(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class DaySplit:
    """A placement range as whole UTC days, taken from the day counts, and the part days at its
    ends, read from the rows. ``first_day``/``end_day`` bound the whole days (end excluded; None
    is open); each part is a (from, until) range of placement times, until excluded unless it
    is the query's own inclusive ``to``."""

    first_day: date | None
    end_day: date | None
    head: tuple[datetime, datetime] | None
    tail: tuple[datetime, datetime] | None


def split_by_day(placed_from: datetime | None, placed_to: datetime | None) -> DaySplit | None:
    """The whole days inside ``placed_from``..``placed_to`` (both inclusive) and the parts left
    at its ends; None when the range holds no whole day (it is read from the rows alone)."""
    first = end = None
    head = tail = None
    if placed_from is not None:
        first = _midnight(placed_from)
        if first < placed_from:
            first += timedelta(days=1)
            head = (placed_from, first)
    if placed_to is not None:
        end = _midnight(placed_to)  # a day is whole when the next one starts by ``to``
        tail = (end, placed_to)
    if first is not None and end is not None and first >= end:
        return None
    return DaySplit(
        first_day=None if first is None else first.date(),
        end_day=None if end is None else end.date(),
        head=head,
        tail=tail,
    )


def _channel_and_status(table: Table, query: OrderFilters) -> list[ColumnElement[bool]]:
    """The channel and status filters, on the rows or on the running counts alike."""
    conditions: list[ColumnElement[bool]] = []
    if query.channel:
        conditions.append(table.c.channel.in_(sorted({c.value for c in query.channel})))
    if query.status:
        conditions.append(table.c.status.in_(sorted({s.value for s in query.status})))
    return conditions


def served_document() -> tuple[ColumnElement[str], ColumnElement[str]]:
    """The order's layout and JSON text as stored, for answers that pass it on unparsed."""
    return order_rows.c.document_layout, cast(order_rows.c.document, Text)


def page_statement(query: OrderListQuery) -> Select[str, str]:
    """Ties are broken by id, in the same direction, so pages never repeat or skip an order."""
    column = SORT_COLUMNS[query.sort_by.value]
    if query.sort_order == "asc":
        ordering = (column.asc(), order_rows.c.id.asc())
    else:
        ordering = (column.desc(), order_rows.c.id.desc())
    return (
        select(*served_document())
        .where(*filters(query))
        .order_by(*ordering)
        .offset((query.page - 1) * query.limit)
        .limit(query.limit)
    )


def count_statement(query: OrderFilters) -> Select[Any]:
    split = counted_by_day(query)
    if split is None:
        return select(func.count()).select_from(order_rows).where(*filters(query))
    counts = order_day_counts.c
    parts = [
        select(func.sum(counts.orders).label("orders")).where(
            *_channel_and_status(order_day_counts, query), *_whole_days(split)
        ),
        *(
            select(func.count().label("orders")).where(
                *_channel_and_status(order_rows, query), *part
            )
            for part in _part_days(split)
        ),
    ]
    added = union_all(*parts).subquery()
    return select(cast(func.coalesce(func.sum(added.c.orders), 0), BigInteger))


def stats_statement(query: OrderFilters) -> Select[Any] | CompoundSelect[Any]:
    """Counts and revenue per channel, status and currency (a group may come in several parts,
    which ``fold_stats`` adds up): from the day counts and the part days at the ends of the
    range, or, under a search or a tag, one pass over the matching rows."""
    split = counted_by_day(query)
    if split is None:
        return totals_by_group().where(*filters(query))
    counts = order_day_counts.c
    by_day = (
        select(
            counts.channel,
            counts.status,
            counts.currency,
            cast(func.sum(counts.orders), BigInteger),
            func.sum(counts.revenue),
        )
        .where(*_channel_and_status(order_day_counts, query), *_whole_days(split))
        .group_by(counts.channel, counts.status, counts.currency)
    )
    parts = [
        totals_by_group().where(*_channel_and_status(order_rows, query), *part)
        for part in _part_days(split)
    ]
    return union_all(by_day, *parts) if parts else by_day


def _whole_days(split: DaySplit) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if split.first_day is not None:
        conditions.append(order_day_counts.c.day >= split.first_day)
    if split.end_day is not None:
        conditions.append(order_day_counts.c.day < split.end_day)
    return conditions


def _part_days(split: DaySplit) -> list[list[ColumnElement[bool]]]:
    placed_at = order_rows.c.placed_at
    parts = []
    if split.head is not None:
        parts.append([placed_at >= split.head[0], placed_at < split.head[1]])
    if split.tail is not None:
        parts.append([placed_at >= split.tail[0], placed_at <= split.tail[1]])
    return parts


def fold_stats(groups: Iterable[tuple[str, str, str, int, float]]) -> OrderStats:
    """The dashboard's figures from the per (channel, status, currency) groups. Revenue leaves
    out cancelled orders and stays per currency."""
    by_channel: dict[Channel, int] = dict.fromkeys(Channel, 0)
    by_status: dict[OrderStatus, int] = dict.fromkeys(OrderStatus, 0)
    revenue: dict[tuple[Channel, str], float] = defaultdict(float)
    for channel, status, currency, count, amount in groups:
        if not count:
            continue  # a day's group every order has left: no revenue line of 0 for it
        by_channel[Channel(channel)] += count
        by_status[OrderStatus(status)] += count
        if status != OrderStatus.CANCELLED:
            revenue[(Channel(channel), currency)] += amount
    return OrderStats(
        total_orders=sum(by_channel.values()),
        by_channel=by_channel,
        by_status=by_status,
        revenue=[
            ChannelRevenue(channel=channel, currency=currency, amount=round(amount, 2))
            for (channel, currency), amount in sorted(revenue.items())
        ],
    )


def row_values(projected: ProjectedOrder, projected_at: Any) -> dict[str, Any]:
    order = projected.order
    return {
        "id": order.id,
        "revision": projected.revision,
        "channel": order.channel.value,
        "external_id": order.external_id,
        "status": order.status.value,
        "total": order.total,
        "currency": order.currency,
        "placed_at": order.placed_at,
        "updated_at": order.updated_at,
        "search_text": search_text(order),
        "document": order.model_dump(mode="json"),
        "projected_at": projected_at,
        "tags": list(order.tags),
        "customer_phone": order.customer.phone,
        "customer_email": order.customer.email.casefold() if order.customer.email else None,
        "document_layout": ORDER_DOCUMENT_LAYOUT,
    }


def customer_orders_statement(order: Order, limit: int) -> Select[str, str, int]:
    """The other orders of ``order``'s customer (same phone or same email), newest first."""
    same = [order_rows.c.customer_phone == order.customer.phone]
    if order.customer.email:
        same.append(order_rows.c.customer_email == order.customer.email.casefold())
    return (
        select(*served_document(), func.count().over())
        .where(or_(*same), order_rows.c.id != order.id)
        .order_by(order_rows.c.placed_at.desc(), order_rows.c.id.desc())
        .limit(limit)
    )


def order_lock_keys(order_ids: Iterable[str]) -> list[int]:
    """The advisory lock of each order (the same on every replica), sorted: every writer takes
    its orders' locks in this one order."""
    return sorted(
        {
            int.from_bytes(
                hashlib.blake2b(f"order:{order_id}".encode(), digest_size=8).digest(),
                signed=True,
            )
            for order_id in order_ids
        }
    )


def _newest_per_order(orders: Iterable[ProjectedOrder]) -> list[ProjectedOrder]:
    # One statement may not touch a row twice; sorted by id so rows always lock in one order.
    newest: dict[str, ProjectedOrder] = {}
    for projected in orders:
        held = newest.get(projected.order.id)
        if held is None or projected.revision > held.revision:
            newest[projected.order.id] = projected
    return [newest[order_id] for order_id in sorted(newest)]


def _upsert_statement() -> Any:
    # Run with a list of rows (executemany): compiled once and cached, where a VALUES list of
    # each batch's length would be compiled again for every batch.
    statement = insert(order_rows)
    changed = {c.name: statement.excluded[c.name] for c in order_rows.c if c.name != "id"}
    return statement.on_conflict_do_update(
        index_elements=[order_rows.c.id],
        set_=changed,
        where=order_rows.c.revision < statement.excluded.revision,
    )


_UPSERT = _upsert_statement()


class QuerySide(Resource):
    """The PostgreSQL projection: its queries and its writes, on a schema the migration step
    (``orders-migrate``, ``schema.py``) brought to this release's revision; ``connect`` checks
    it and refuses an older one.

    Every statement runs under ``statement_timeout`` and the pool is bounded: a query nobody
    waits for any more stops, and a saturated service fails fast instead of queueing. It works
    as ``url``'s role, which owns nothing (``service_role.py``).
    """

    name = "postgres"

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        pool_timeout_s: float = 2.0,
        statement_timeout_ms: int = 5000,
        connect_timeout_s: float = 3.0,
    ) -> None:
        parsed = make_url(url)
        self.target = parsed.database or ""
        self._connect_args = {
            "timeout": connect_timeout_s,
            "server_settings": {
                "statement_timeout": str(statement_timeout_ms),
                "lock_timeout": str(statement_timeout_ms),
                # Plans for the actual search text: a generic plan cannot tell a rare
                # substring (use the trigram index) from a common one (walk the sort index).
                "plan_cache_mode": "force_custom_plan",
                "application_name": "orders",
            },
        }
        self.engine: AsyncEngine = create_async_engine(
            asyncpg_url(url),
            pool_size=pool_size,
            max_overflow=0,
            pool_timeout=pool_timeout_s,
            pool_pre_ping=False,
            json_serializer=lambda value: orjson.dumps(value).decode(),
            json_deserializer=orjson.loads,
            connect_args=self._connect_args,
        )

    # Resource ----------------------------------------------------------------------------------
    async def connect(self) -> None:
        await require_schema_revision(self.engine, migration_scripts())

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self.engine.dispose()

    # Writes ------------------------------------------------------------------------------------
    async def project(self, orders: Iterable[ProjectedOrder]) -> int:
        """Applies each order unless its row is already at that revision or newer, and moves the
        running counts along; returns how many rows changed. Idempotent: the same orders
        projected again change nothing."""
        newest = _newest_per_order(orders)
        now = utc_now()
        applied: list[ProjectedOrder] = []
        for start in range(0, len(newest), _ROWS_PER_STATEMENT):
            applied += await self._project_chunk(newest[start : start + _ROWS_PER_STATEMENT], now)
        if applied:
            _observe_lag(applied, now.timestamp())
        return len(applied)

    async def _project_chunk(
        self, chunk: list[ProjectedOrder], now: datetime
    ) -> list[ProjectedOrder]:
        async with self.engine.begin() as connection:
            # Held to the commit: what is read below is what this write replaces, and the
            # counts it moves match the rows it writes, however many writers run.
            await connection.execute(
                _LOCK_ORDERS, {"keys": order_lock_keys(p.order.id for p in chunk)}
            )
            stored = await _stored_groups(connection, [p.order.id for p in chunk])
            fresh = [p for p in chunk if p.revision > stored.get(p.order.id, _ABSENT).revision]
            if fresh:
                await connection.execute(_UPSERT, [row_values(p, now) for p in fresh])
                # Last, in one statement in key order: a count row stays locked only while
                # this transaction commits.
                await _add_to_counts(connection, count_changes(fresh, stored))
        return fresh

    async def clear(self) -> None:
        """Empties the projection: the first step of a rebuild, which then projects every
        order again. Live projections may go on meanwhile; the revision check keeps the newest.
        TRUNCATE waits for the projections in flight and holds back the next ones."""
        async with self.engine.begin() as connection:
            await connection.execute(text("TRUNCATE order_rows, order_day_counts"))

    # Reads -------------------------------------------------------------------------------------
    async def page(self, query: OrderListQuery) -> OrderPageRows:
        async with self.engine.connect() as connection:
            rows = (await connection.execute(page_statement(query))).all()
            total = (await connection.execute(count_statement(query))).scalar_one()
        return OrderPageRows.of_rows(rows, total)

    async def customer_orders(self, order: Order, limit: int = 20) -> OrderPageRows:
        async with self.engine.connect() as connection:
            rows = (await connection.execute(customer_orders_statement(order, limit))).all()
        total = rows[0][2] if rows else 0
        return OrderPageRows.of_rows(((layout, document) for layout, document, _ in rows), total)

    # Dead letters ------------------------------------------------------------------------------
    async def keep_dead_letters(self, letters: Sequence[DeadLetterRead]) -> int:
        """Stores dead letters as they arrive; one seen before (a redelivery) is kept once."""
        if not letters:
            return 0
        statement = (
            insert(dead_letters)
            .values([letter.model_dump(by_alias=False, mode="python") for letter in letters])
            .on_conflict_do_nothing(index_elements=[dead_letters.c.id])
        )
        async with self.engine.begin() as connection:
            result = await connection.execute(statement)
        return int(result.rowcount or 0)

    async def dead_letter_page(
        self, state: DeadLetterState | None, page: int, limit: int
    ) -> tuple[list[DeadLetterRead], int]:
        where = [] if state is None else [dead_letters.c.state == state.value]
        statement = (
            select(dead_letters)
            .where(*where)
            .order_by(dead_letters.c.dead_lettered_at.desc(), dead_letters.c.id.desc())
            .offset((page - 1) * limit)
            .limit(limit)
        )
        async with self.engine.connect() as connection:
            rows = (await connection.execute(statement)).mappings().all()
            total = (
                await connection.execute(
                    select(func.count()).select_from(dead_letters).where(*where)
                )
            ).scalar_one()
        return [DeadLetterRead.model_validate(dict(row)) for row in rows], total

    async def dead_letter(self, letter_id: str) -> DeadLetterRead | None:
        async with self.engine.connect() as connection:
            row = (
                (
                    await connection.execute(
                        select(dead_letters).where(dead_letters.c.id == letter_id)
                    )
                )
                .mappings()
                .first()
            )
        return None if row is None else DeadLetterRead.model_validate(dict(row))

    async def resolve_dead_letter(
        self, letter_id: str, state: DeadLetterState, *, by: str, reason: str | None
    ) -> DeadLetterRead | None:
        """Marks a pending dead letter replayed or discarded; None if it was not pending."""
        statement = (
            dead_letters.update()
            .where(dead_letters.c.id == letter_id, dead_letters.c.state == "pending")
            .values(state=state.value, resolved_at=utc_now(), resolved_by=by, reason=reason)
            .returning(*dead_letters.c)
        )
        async with self.engine.begin() as connection:
            row = (await connection.execute(statement)).mappings().first()
        return None if row is None else DeadLetterRead.model_validate(dict(row))

    async def stats(self, query: OrderFilters) -> OrderStats:
        async with self.engine.connect() as connection:
            groups = (await connection.execute(stats_statement(query))).all()
        return fold_stats(groups)

    async def explain(
        self, query: OrderListQuery, *, analyze: bool = True, avoid_table_scans: bool = False
    ) -> dict[str, str]:
        """The PostgreSQL plan of each statement a list or stats request runs.

        ``avoid_table_scans`` tells the planner to use an index wherever one can serve: on a
        small table it rightly prefers to read everything, and the question a check asks is
        whether some index fits the statement."""
        statements = {
            "page": page_statement(query),
            "count": count_statement(query),
            "stats": stats_statement(query),
        }
        plans: dict[str, str] = {}
        options = "ANALYZE, BUFFERS" if analyze else "COSTS"
        async with self.engine.connect() as connection:
            if avoid_table_scans:
                await connection.execute(text("SET LOCAL enable_seqscan = off"))
            for name, statement in statements.items():
                compiled = statement.compile(
                    connection.engine, compile_kwargs={"render_postcompile": True}
                )
                rows = await connection.exec_driver_sql(
                    f"EXPLAIN ({options}) {compiled}",
                    tuple(compiled.params[key] for key in compiled.positiontup or ()),
                )
                plans[name] = "\n".join(row[0] for row in rows)
        return plans


@dataclass(frozen=True)
class StoredGroup:
    """What a stored row contributes to the running counts."""

    revision: int
    key: GroupKey
    total: float


# The day an order was placed (UTC), its channel, status and currency.
GroupKey = tuple[date, str, str, str]

_ABSENT = StoredGroup(revision=0, key=(date.min, "", "", ""), total=0.0)


def group_key(order: Order) -> GroupKey:
    day = order.placed_at.astimezone(UTC).date()
    return (day, order.channel.value, order.status.value, order.currency)


def count_changes(
    fresh: Iterable[ProjectedOrder], stored: dict[str, StoredGroup]
) -> dict[GroupKey, tuple[int, float]]:
    """How applying ``fresh`` over ``stored`` moves each group's order count and revenue."""
    changes: dict[GroupKey, tuple[int, float]] = {}

    def add(key: GroupKey, orders: int, revenue: float) -> None:
        held_orders, held_revenue = changes.get(key, (0, 0.0))
        changes[key] = (held_orders + orders, held_revenue + revenue)

    for projected in fresh:
        before = stored.get(projected.order.id)
        if before is not None:
            add(before.key, -1, -before.total)
        add(group_key(projected.order), 1, projected.order.total)
    return {key: change for key, change in sorted(changes.items()) if change != (0, 0.0)}


async def _stored_groups(connection: AsyncConnection, ids: list[str]) -> dict[str, StoredGroup]:
    rows = await connection.execute(
        select(
            order_rows.c.id,
            order_rows.c.revision,
            order_rows.c.placed_at,
            order_rows.c.channel,
            order_rows.c.status,
            order_rows.c.currency,
            order_rows.c.total,
        ).where(order_rows.c.id.in_(ids))
    )
    return {
        order_id: StoredGroup(
            revision, (placed_at.astimezone(UTC).date(), channel, status, currency), total
        )
        for order_id, revision, placed_at, channel, status, currency, total in rows
    }


async def _add_to_counts(
    connection: AsyncConnection, changes: dict[GroupKey, tuple[int, float]]
) -> None:
    if not changes:
        return
    counts = order_day_counts.c
    statement = insert(order_day_counts).values(
        [
            {"day": d, "channel": c, "status": s, "currency": cur, "orders": n, "revenue": amount}
            for (d, c, s, cur), (n, amount) in changes.items()
        ]
    )
    await connection.execute(
        statement.on_conflict_do_update(
            index_elements=[counts.day, counts.channel, counts.status, counts.currency],
            set_={
                "orders": counts.orders + statement.excluded.orders,
                "revenue": counts.revenue + statement.excluded.revenue,
            },
        )
    )


def totals_by_group() -> Select[Any]:
    """Orders and revenue per (channel, status, currency), counted from the rows."""
    return select(
        order_rows.c.channel,
        order_rows.c.status,
        order_rows.c.currency,
        func.count(),
        func.sum(order_rows.c.total),
    ).group_by(order_rows.c.channel, order_rows.c.status, order_rows.c.currency)


def _observe_lag(orders: Sequence[ProjectedOrder], now: float) -> None:
    lags = [max(0.0, now - p.order.updated_at.timestamp()) for p in orders]
    for lag in lags:
        metrics.PROJECTED.observe(lag)
    metrics.PROJECTION_LAG.set(min(lags))


# Working on many orders: jobs, export files, saved views and the audit log --------------------
# Background jobs keep their state and per-order progress here, so a restarted (or another)
# replica resumes them where they stood; see ``jobs.py``.

jobs = Table(
    "jobs",
    metadata,
    Column("id", Text, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("created_at", TIMESTAMP(timezone=True), nullable=False),
    Column("updated_at", TIMESTAMP(timezone=True), nullable=False),
    Column("finished_at", TIMESTAMP(timezone=True)),
    Column("params", JSONB, nullable=False),
    Column("total", Integer, nullable=False),
    Column("processed", Integer, nullable=False),
    Column("moved", Integer, nullable=False),
    Column("refused", Integer, nullable=False),
    Column("cancel_requested", Boolean, nullable=False),
    Column("error", Text),
    Column("lease_owner", Text),
    Column("lease_until", TIMESTAMP(timezone=True)),
    # When an export's file (its chunks) was deleted, past its retention.
    Column("files_deleted_at", TIMESTAMP(timezone=True)),
)

job_items = Table(
    "job_items",
    metadata,
    Column("job_id", Text, primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("order_id", Text, nullable=False),
    Column("outcome", Text),
    Column("reason", Text),
    Column("from_status", Text),
)

export_chunks = Table(
    "export_chunks",
    metadata,
    Column("job_id", Text, primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("data", LargeBinary, nullable=False),
)

saved_views = Table(
    "saved_views",
    metadata,
    Column("id", Text, primary_key=True),
    Column("owner_id", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("shared", Boolean, nullable=False),
    Column("is_default", Boolean, nullable=False),
    Column("query", JSONB, nullable=False),
    Column("columns", JSONB, nullable=False),
    Column("created_at", TIMESTAMP(timezone=True), nullable=False),
    Column("updated_at", TIMESTAMP(timezone=True), nullable=False),
)

audit_records = Table(
    "audit_records",
    metadata,
    Column("event_id", Text, primary_key=True),
    Column("occurred_at", TIMESTAMP(timezone=True), nullable=False),
    Column("recorded_at", TIMESTAMP(timezone=True), nullable=False),
    Column("service", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("outcome", Text, nullable=False),
    Column("actor_id", Text),
    Column("actor_email", Text),
    Column("target", Text),
    Column("client_address", Text),
    Column("request_id", Text),
    Column("correlation_id", Text),
    Column("details", JSONB, nullable=False),
)

UNFINISHED_JOB_STATES = ("queued", "running")
EXPORT_KIND = "export"
# The window of a user's daily export limit: any 24 hours.
EXPORT_LIMIT_WINDOW = timedelta(days=1)
# Asked of a user at their limit of running exports: about one chunk's time of an export.
EXPORT_RUNNING_RETRY_AFTER_S = 10


@dataclass(frozen=True)
class ExportLimitReached:
    """Why a user may not start another export now (``running`` or ``daily``), and in how many
    seconds they may."""

    limit: str
    allowed: int
    retry_after_s: int


def view_ordering(sort_by: str, sort_order: str) -> tuple[ColumnElement[Any], ...]:
    """The list's order for a view, ties broken by id in the same direction (as ``page``)."""
    column = SORT_COLUMNS[sort_by]
    if sort_order == "asc":
        return (column.asc(), order_rows.c.id.asc())
    return (column.desc(), order_rows.c.id.desc())


def export_chunk_statement(
    query: OrderFilters, sort_by: str, sort_order: str, after: tuple[Any, str] | None, limit: int
) -> Select[Any]:
    """One chunk of an export: the next ``limit`` rows of the view after the last one written
    (keyset on the sort column and id, so each chunk is one walk of the sort's index)."""
    column = SORT_COLUMNS[sort_by]
    statement = select(column, order_rows.c.id, order_rows.c.document).where(*filters(query))
    if after is not None:
        key = tuple_(column, order_rows.c.id)
        statement = statement.where(
            key > tuple_(*after) if sort_order == "asc" else key < tuple_(*after)
        )
    return statement.order_by(*view_ordering(sort_by, sort_order)).limit(limit)


class WorkStore:
    """The query side's tables for working on many orders: jobs and their progress, export
    chunks, saved views and the audit log. Shares the query side's engine (pool and timeouts)."""

    def __init__(self, query_side: QuerySide) -> None:
        self.engine = query_side.engine

    # Jobs --------------------------------------------------------------------------------------
    async def create_job(
        self,
        row: dict[str, Any],
        *,
        items_of: OrderFilters | None = None,
        sort: tuple[str, str] = ("placedAt", "desc"),
    ) -> dict[str, Any]:
        """Stores a job; for a bulk move over a view, with one item per matching order (taken
        in one statement, server-side), so what the job covers is fixed when it starts."""
        async with self.engine.begin() as connection:
            await connection.execute(jobs.insert().values(row))
            if items_of is not None:
                position = func.row_number().over(order_by=view_ordering(*sort))
                chosen = select(
                    text(":job_id").bindparams(job_id=row["id"]), position, order_rows.c.id
                ).where(*filters(items_of))
                inserted = await connection.execute(
                    job_items.insert().from_select(["job_id", "position", "order_id"], chosen)
                )
                await connection.execute(
                    update(jobs).where(jobs.c.id == row["id"]).values(total=inserted.rowcount)
                )
            stored = (await connection.execute(select(jobs).where(jobs.c.id == row["id"]))).one()
        return dict(stored._mapping)

    async def create_export(
        self, row: dict[str, Any], *, running_limit: int, daily_limit: int
    ) -> dict[str, Any] | ExportLimitReached:
        """Stores an export job unless its user is at a limit: ``running_limit`` exports queued
        or running, or ``daily_limit`` started in the last 24 hours. Checked and stored under a
        lock of that user's (every replica's), so two requests at once cannot both pass."""
        user = row["created_by"]
        mine = (jobs.c.created_by == user, jobs.c.kind == EXPORT_KIND)
        async with self.engine.begin() as connection:
            await connection.execute(
                select(func.pg_advisory_xact_lock(func.hashtextextended(f"export:{user}", 0)))
            )
            running = (
                await connection.execute(
                    select(func.count())
                    .select_from(jobs)
                    .where(*mine, jobs.c.state.in_(UNFINISHED_JOB_STATES))
                )
            ).scalar_one()
            if running >= running_limit:
                return ExportLimitReached("running", running_limit, EXPORT_RUNNING_RETRY_AFTER_S)
            window_start = row["created_at"] - EXPORT_LIMIT_WINDOW
            today, oldest = (
                await connection.execute(
                    select(func.count(), func.min(jobs.c.created_at)).where(
                        *mine, jobs.c.created_at > window_start
                    )
                )
            ).one()
            if today >= daily_limit:
                wait = oldest - window_start
                return ExportLimitReached("daily", daily_limit, int(wait.total_seconds()) + 1)
            await connection.execute(jobs.insert().values(row))
            stored = (await connection.execute(select(jobs).where(jobs.c.id == row["id"]))).one()
        return dict(stored._mapping)

    async def job(self, job_id: str) -> dict[str, Any] | None:
        async with self.engine.connect() as connection:
            found = (await connection.execute(select(jobs).where(jobs.c.id == job_id))).first()
        return None if found is None else dict(found._mapping)

    async def take_job(self, owner: str, lease_s: float) -> dict[str, Any] | None:
        """Takes the oldest unfinished job nobody holds (or whose holder stopped renewing)."""
        now = utc_now()
        candidate = (
            select(jobs.c.id)
            .where(
                jobs.c.state.in_(UNFINISHED_JOB_STATES),
                or_(
                    jobs.c.lease_until.is_(None),
                    jobs.c.lease_until < now,
                    jobs.c.lease_owner == owner,
                ),
            )
            .order_by(jobs.c.created_at)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        async with self.engine.begin() as connection:
            taken = (
                await connection.execute(
                    update(jobs)
                    .where(jobs.c.id == candidate)
                    .values(
                        state="running",
                        lease_owner=owner,
                        lease_until=now + _seconds(lease_s),
                        updated_at=now,
                    )
                    .returning(*jobs.c)
                )
            ).first()
        return None if taken is None else dict(taken._mapping)

    async def renew_job(self, job_id: str, owner: str, lease_s: float) -> bool:
        """Renews the lease; False when the job is no longer this owner's to run."""
        now = utc_now()
        async with self.engine.begin() as connection:
            result = await connection.execute(
                update(jobs)
                .where(jobs.c.id == job_id, jobs.c.lease_owner == owner)
                .values(lease_until=now + _seconds(lease_s), updated_at=now)
            )
        return result.rowcount == 1

    async def pending_items(self, job_id: str, limit: int) -> list[tuple[int, str]]:
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(job_items.c.position, job_items.c.order_id)
                .where(job_items.c.job_id == job_id, job_items.c.outcome.is_(None))
                .order_by(job_items.c.position)
                .limit(limit)
            )
            return [(position, order_id) for position, order_id in rows]

    async def record_items(
        self, job_id: str, outcomes: Sequence[tuple[int, str, str | None, str | None]]
    ) -> None:
        """Records (position, outcome, reason, from status) of items not yet recorded, and
        moves the job's counters by what was recorded, in one transaction."""
        if not outcomes:
            return
        moved = refused = 0
        async with self.engine.begin() as connection:
            for position, outcome, reason, from_status in outcomes:
                result = await connection.execute(
                    update(job_items)
                    .where(
                        job_items.c.job_id == job_id,
                        job_items.c.position == position,
                        job_items.c.outcome.is_(None),
                    )
                    .values(outcome=outcome, reason=reason, from_status=from_status)
                )
                if result.rowcount == 1:
                    moved += outcome == "moved"
                    refused += outcome != "moved"
            await connection.execute(
                update(jobs)
                .where(jobs.c.id == job_id)
                .values(
                    processed=jobs.c.processed + moved + refused,
                    moved=jobs.c.moved + moved,
                    refused=jobs.c.refused + refused,
                    updated_at=utc_now(),
                )
            )

    async def set_progress(self, job_id: str, *, total: int | None = None, processed: int) -> None:
        values: dict[str, Any] = {"processed": processed, "updated_at": utc_now()}
        if total is not None:
            values["total"] = total
        async with self.engine.begin() as connection:
            await connection.execute(update(jobs).where(jobs.c.id == job_id).values(values))

    async def finish_job(self, job_id: str, state: str, *, error: str | None = None) -> None:
        now = utc_now()
        async with self.engine.begin() as connection:
            await connection.execute(
                update(jobs)
                .where(jobs.c.id == job_id, jobs.c.state.in_(UNFINISHED_JOB_STATES))
                .values(
                    state=state,
                    error=error,
                    finished_at=now,
                    updated_at=now,
                    lease_owner=None,
                    lease_until=None,
                )
            )

    async def request_cancel(self, job_id: str) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(
                update(jobs)
                .where(jobs.c.id == job_id, jobs.c.state.in_(UNFINISHED_JOB_STATES))
                .values(cancel_requested=True, updated_at=utc_now())
            )

    async def item_page(
        self, job_id: str, outcome: str | None, offset: int, limit: int
    ) -> tuple[list[dict[str, Any]], int]:
        conditions = [job_items.c.job_id == job_id]
        if outcome == "pending":
            conditions.append(job_items.c.outcome.is_(None))
        elif outcome is not None:
            conditions.append(job_items.c.outcome == outcome)
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(job_items)
                .where(*conditions)
                .order_by(job_items.c.position)
                .offset(offset)
                .limit(limit)
            )
            total = (
                await connection.execute(
                    select(func.count()).select_from(job_items).where(*conditions)
                )
            ).scalar_one()
        return [dict(row._mapping) for row in rows], total

    # Exports -----------------------------------------------------------------------------------
    async def count(self, query: OrderFilters) -> int:
        async with self.engine.connect() as connection:
            return int((await connection.execute(count_statement(query))).scalar_one())

    async def export_chunk(
        self,
        query: OrderFilters,
        sort_by: str,
        sort_order: str,
        after: tuple[Any, str] | None,
        limit: int,
    ) -> list[tuple[Any, str, dict[str, Any]]]:
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                export_chunk_statement(query, sort_by, sort_order, after, limit)
            )
            return [(key, order_id, document) for key, order_id, document in rows]

    async def clear_export(self, job_id: str) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(export_chunks.delete().where(export_chunks.c.job_id == job_id))

    async def add_export_chunk(self, job_id: str, seq: int, data: bytes, processed: int) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(
                export_chunks.insert().values(job_id=job_id, seq=seq, data=data)
            )
            await connection.execute(
                update(jobs)
                .where(jobs.c.id == job_id)
                .values(processed=processed, updated_at=utc_now())
            )

    async def delete_export_files(self, finished_before: datetime, limit: int) -> list[str]:
        """Deletes the files of up to ``limit`` exports that finished (in any state) before
        ``finished_before``, oldest first, and marks them deleted; their ids. A walk of the
        index of exports whose files are kept, never a pass over every job."""
        async with self.engine.begin() as connection:
            ids = list(
                (
                    await connection.execute(
                        select(jobs.c.id)
                        .where(
                            jobs.c.kind == EXPORT_KIND,
                            jobs.c.files_deleted_at.is_(None),
                            jobs.c.finished_at < finished_before,
                        )
                        .order_by(jobs.c.finished_at)
                        .limit(limit)
                        .with_for_update(skip_locked=True)
                    )
                ).scalars()
            )
            if ids:
                await connection.execute(
                    export_chunks.delete().where(export_chunks.c.job_id.in_(ids))
                )
                await connection.execute(
                    update(jobs).where(jobs.c.id.in_(ids)).values(files_deleted_at=utc_now())
                )
        return ids

    async def export_data(self, job_id: str) -> AsyncIterator[bytes]:
        """The export's file, one chunk read at a time."""
        seq = -1
        while True:
            async with self.engine.connect() as connection:
                found = (
                    await connection.execute(
                        select(export_chunks.c.seq, export_chunks.c.data)
                        .where(export_chunks.c.job_id == job_id, export_chunks.c.seq > seq)
                        .order_by(export_chunks.c.seq)
                        .limit(1)
                    )
                ).first()
            if found is None:
                return
            seq = found.seq
            yield bytes(found.data)

    # Saved views -------------------------------------------------------------------------------
    async def views_for(self, user_id: str) -> list[dict[str, Any]]:
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(saved_views)
                .where(or_(saved_views.c.owner_id == user_id, saved_views.c.shared))
                .order_by(saved_views.c.name, saved_views.c.id)
            )
            return [dict(row._mapping) for row in rows]

    async def view(self, view_id: str) -> dict[str, Any] | None:
        async with self.engine.connect() as connection:
            found = (
                await connection.execute(select(saved_views).where(saved_views.c.id == view_id))
            ).first()
        return None if found is None else dict(found._mapping)

    async def save_view(self, row: dict[str, Any], *, is_new: bool) -> dict[str, Any] | None:
        """Inserts or updates a view; a default view takes the mark from the owner's other one.
        None when the owner already has a view of that name."""
        try:
            async with self.engine.begin() as connection:
                if row.get("is_default"):
                    await connection.execute(
                        update(saved_views)
                        .where(
                            saved_views.c.owner_id == row["owner_id"],
                            saved_views.c.id != row["id"],
                            saved_views.c.is_default,
                        )
                        .values(is_default=False)
                    )
                if is_new:
                    await connection.execute(saved_views.insert().values(row))
                else:
                    await connection.execute(
                        update(saved_views).where(saved_views.c.id == row["id"]).values(row)
                    )
        except IntegrityError:
            return None
        return await self.view(row["id"])

    async def delete_view(self, view_id: str) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(saved_views.delete().where(saved_views.c.id == view_id))

    # The audit log -----------------------------------------------------------------------------
    async def append_audit(self, rows: Sequence[dict[str, Any]]) -> int:
        """Stores each record once by its event id (a redelivered one is skipped)."""
        if not rows:
            return 0
        statement = (
            insert(audit_records)
            .values(list(rows))
            .on_conflict_do_nothing(index_elements=[audit_records.c.event_id])
        )
        async with self.engine.begin() as connection:
            return (await connection.execute(statement)).rowcount

    async def audit_page(self, query: AuditQuery) -> tuple[list[dict[str, Any]], int]:
        conditions = audit_conditions(query)
        offset, limit = (query.page - 1) * query.limit, query.limit
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(audit_records)
                .where(*conditions)
                .order_by(audit_records.c.occurred_at.desc(), audit_records.c.event_id.desc())
                .offset(offset)
                .limit(limit)
            )
            total = (
                await connection.execute(
                    select(func.count()).select_from(audit_records).where(*conditions)
                )
            ).scalar_one()
        return [dict(row._mapping) for row in rows], total


def _seconds(value: float) -> timedelta:
    return timedelta(seconds=value)


def audit_conditions(query: AuditQuery) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    for column, value in (
        (audit_records.c.action, query.action),
        (audit_records.c.actor_id, query.actor_id),
        (audit_records.c.target, query.target),
        (audit_records.c.outcome, query.outcome),
    ):
        if value is not None:
            conditions.append(column == value)
    if query.occurred_from is not None:
        conditions.append(audit_records.c.occurred_at >= query.occurred_from)
    if query.occurred_to is not None:
        conditions.append(audit_records.c.occurred_at <= query.occurred_to)
    return conditions
