"""Keyset (cursor) paging of the orders list: a page starts after (or ends before) one row's
sort key, so any depth is one walk of the sort's index, never an OFFSET over every row before.

A cursor is opaque to clients: base64url JSON of the sort it belongs to, a direction and the
key (sort value, id) of the row it starts after or ends before. It holds no secret, only values
any reader of that page saw, so it is not signed; a cursor that does not decode, or belongs to
another sort, is a 400 (``invalid_cursor``).
"""

from __future__ import annotations

import base64
import binascii
import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import orjson
from sqlalchemy import (
    ColumnElement,
    Executable,
    Select,
    Subquery,
    func,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.visitors import InternalTraversal

from orderhub_common.events import Channel, OrderStatus
from orders.errors import InvalidCursorError
from orders.query_side.order_queries import (
    SORT_COLUMNS,
    OrderPageRows,
    count_statement,
    counted_by_day,
    filters,
    narrowed_by_text,
    served_document,
)
from orders.query_side.tables import order_rows
from orders.schemas import OrderListQuery, SortField

Direction = Literal["after", "before", "from"]

# ``from`` starts at a sort value (a jump), ``before`` with no key is the view's last page.
_DIRECTIONS = ("after", "before", "from")


@dataclass(frozen=True)
class Cursor:
    sort_by: str
    sort_order: str
    direction: Direction
    value: Any  # the sort column's value (JSON form), None with ``before`` = the last page
    order_id: str | None

    def encode(self) -> str:
        raw = orjson.dumps(
            [self.sort_by, self.sort_order, self.direction, self.value, self.order_id]
        )
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def cursor_at(query: OrderListQuery, direction: Direction, key: tuple[Any, str] | None) -> str:
    value, order_id = key if key is not None else (None, None)
    return Cursor(
        query.sort_by.value, query.sort_order, direction, _json_value(value), order_id
    ).encode()


def _sort_value(sort_by: str, value: Any) -> Any:
    """The JSON form of a sort value as the column compares it; ValueError when it is not one."""
    if sort_by in (SortField.PLACED_AT, SortField.UPDATED_AT):
        if not isinstance(value, str):
            raise ValueError("not a timestamp")
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError("a timestamp needs its offset")
        return moment
    if sort_by == SortField.TOTAL:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError("not an amount")
        return float(value)
    allowed = OrderStatus if sort_by == SortField.STATUS else Channel
    return allowed(value).value


def decode_cursor(token: str, query: OrderListQuery) -> Cursor:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        sort_by, sort_order, direction, value, order_id = orjson.loads(raw)
        if direction not in _DIRECTIONS or not (order_id is None or isinstance(order_id, str)):
            raise ValueError("not a cursor")
        if value is not None:
            value = _sort_value(sort_by, value)
        elif direction != "before" or order_id is not None:
            raise ValueError("not a cursor")
    except (binascii.Error, orjson.JSONDecodeError, ValueError, TypeError, KeyError) as exc:
        raise InvalidCursorError("the cursor is not one this list gave out") from exc
    if (sort_by, sort_order) != (query.sort_by.value, query.sort_order):
        raise InvalidCursorError(
            "the cursor belongs to another sort: start again from the first page of this one"
        )
    return Cursor(sort_by, sort_order, direction, value, order_id)


def start_cursor(query: OrderListQuery, start_at: str) -> Cursor:
    """A jump: the page starting at the first order whose sort value reaches ``start_at``
    (a moment for the two dates, an amount for the total, a status or channel)."""
    sort_by = query.sort_by.value
    value: Any = start_at
    if sort_by == SortField.TOTAL:
        try:
            value = float(start_at)
        except ValueError as exc:
            raise InvalidCursorError("startAt must be an amount under this sort") from exc
    elif sort_by in (SortField.PLACED_AT, SortField.UPDATED_AT) and "T" not in start_at:
        value = f"{start_at}T00:00:00+00:00" if query.sort_order == "asc" else None
        if value is None:  # newest first: the page starts at the end of that day
            value = f"{start_at}T23:59:59.999999+00:00"
    try:
        parsed = _sort_value(sort_by, value)
    except (ValueError, TypeError) as exc:
        raise InvalidCursorError(f"startAt is not a value of {sort_by}: {start_at!r}") from exc
    return Cursor(sort_by, query.sort_order, "from", parsed, None)


def _key_condition(query: OrderListQuery, cursor: Cursor, *, forwards: bool) -> ColumnElement[bool]:
    """Rows past the cursor's key in the walk's direction (forwards = the list's own order)."""
    column = SORT_COLUMNS[query.sort_by.value]
    ascending = (query.sort_order == "asc") == forwards
    if cursor.order_id is None:  # a jump compares the sort value alone, and takes it in
        return column >= cursor.value if ascending else column <= cursor.value
    key, at = tuple_(column, order_rows.c.id), tuple_(cursor.value, cursor.order_id)
    return key > at if ascending else key < at


def _walk(
    query: OrderListQuery, *, forwards: bool, rows: Subquery | None = None
) -> tuple[Any, ...]:
    """The order of a walk over the rows (or over ``rows``, the merged walks' columns)."""
    column = SORT_COLUMNS[query.sort_by.value]
    value, order_id = (
        (column, order_rows.c.id) if rows is None else (rows.c[column.name], rows.c.id)
    )
    if (query.sort_order == "asc") == forwards:
        return (value.asc(), order_id.asc())
    return (value.desc(), order_id.desc())


_VIEW_TOTAL = "view_total"


def page_columns(query: OrderListQuery) -> list[ColumnElement[Any]]:
    """A page's columns: each order's served document, the view's total when the day counts
    answer it (read in the page's own statement, one round trip for both: a list read paid
    about 0.25 ms of the service's CPU for each statement it sent), and the row's sort key."""
    return [
        *served_document(),
        *_view_total(query),
        SORT_COLUMNS[query.sort_by.value],
        order_rows.c.id,
    ]


def _view_total(query: OrderListQuery) -> list[ColumnElement[Any]]:
    """The view's total as a column of the page, when the day counts answer it."""
    if counted_by_day(query) is None:
        return []
    return [count_statement(query).scalar_subquery().label(_VIEW_TOTAL)]


def cursor_page_statement(query: OrderListQuery, cursor: Cursor) -> Select[Any]:
    """Up to ``limit + 1`` rows from the cursor (the extra one tells whether more follow), with
    each row's key; a ``before`` page is read backwards and turned round by the caller."""
    forwards = cursor.direction != "before"
    merged = _merged_walks(query, _row_columns(query), forwards=forwards, after=cursor)
    if merged is not None:
        return _merged_page(query, merged, forwards=forwards).limit(query.limit + 1)
    statement = select(*page_columns(query)).where(*filters(query))
    if cursor.value is not None:
        statement = statement.where(_key_condition(query, cursor, forwards=forwards))
    return statement.order_by(*_walk(query, forwards=forwards)).limit(query.limit + 1)


def offset_page_statement(query: OrderListQuery) -> Select[Any]:
    """Up to ``limit + 1`` rows of page ``page``. Past the first page, the rows the OFFSET skips
    are found by their keys alone and only the page's own rows are read whole: the skipped ones
    no longer cost a read and a conversion of their document each (the crowd's later pages
    cost PostgreSQL 2.4 ms of CPU a read, 1.1 ms this way)."""
    walk = _walk(query, forwards=True)
    offset = (query.page - 1) * query.limit
    if offset == 0:
        merged = _merged_walks(query, _row_columns(query), forwards=True)
        if merged is not None:
            return _merged_page(query, merged, forwards=True).limit(query.limit + 1)
        return (
            select(*page_columns(query))
            .where(*filters(query))
            .order_by(*walk)
            .limit(query.limit + 1)
        )
    reach = offset + query.limit + 1
    sort_column = SORT_COLUMNS[query.sort_by.value]
    merged = _merged_walks(query, [sort_column, order_rows.c.id], forwards=True, limit=reach)
    keys = (
        select(merged.c.id).order_by(*_walk(query, forwards=True, rows=merged))
        if merged is not None
        else select(order_rows.c.id).where(*filters(query)).order_by(*walk)
    )
    page_keys = keys.offset(offset).limit(query.limit + 1).subquery("page_keys")
    return (
        select(*page_columns(query))
        .join_from(order_rows, page_keys, page_keys.c.id == order_rows.c.id)
        .order_by(*walk)
    )


def _offset_page(query: OrderListQuery) -> Select[Any]:
    """``offset_page_statement``, built once for each list: a statement is immutable and
    SQLAlchemy keeps its cache key with it, and building a page's statement and its key cost 80
    to 400 µs of CPU a list (a merged walk of several statuses the most), while the same lists
    are asked again and again (the dashboard's page, a channel, a status, the next pages). A
    search's or a tag's text makes its query one of thousands, asked once: built each time.
    Kept: the last 512 lists asked, at most about 25 MB (a merged walk of two statuses with its
    key holds 49 kB)."""
    if narrowed_by_text(query):
        return offset_page_statement(query)
    return _offset_page_statement_of(query.model_dump_json())


@functools.lru_cache(maxsize=512)
def _offset_page_statement_of(query_json: str) -> Select[Any]:
    return offset_page_statement(OrderListQuery.model_validate_json(query_json))


def beyond_statement(query: OrderListQuery, key: tuple[Any, str], *, forwards: bool) -> Select[Any]:
    """Whether any row of the view lies past ``key`` (one index probe, or one per walk)."""
    cursor = Cursor(query.sort_by.value, query.sort_order, "after", key[0], key[1])
    merged = _merged_walks(query, [order_rows.c.id], forwards=forwards, after=cursor, limit=1)
    if merged is not None:
        return select(merged.c.id).limit(1)
    return (
        select(order_rows.c.id)
        .where(*filters(query), _key_condition(query, cursor, forwards=forwards))
        .order_by(*_walk(query, forwards=forwards))
        .limit(1)
    )


# A list filtered by channel or status is read as one walk per (channel, status) pair down
# that pair's range of ``order_rows_channel_status_<sort>_id`` (migration 0012), merged: the
# page costs what the walks' first rows cost, where one walk of the sort's own index dropped
# every row of another channel or status on the way (10 to 50 ms a page at 214,000 orders).
# Up to this many walks; beyond, one walk with the filter (each walk costs its planning).
MAX_MERGED_WALKS = 6


def _merged_pairs(query: OrderListQuery) -> list[tuple[Channel, OrderStatus]] | None:
    """The (channel, status) pairs whose walks make the view, or None when one walk serves it:
    no channel or status filter, an index of its own (one status or one channel, newest first
    or by that same field), a search or a tag (their own indexes), or too many pairs."""
    channels = sorted(set(query.channel))
    statuses = sorted(set(query.status))
    sort_by = query.sort_by
    if not (channels or statuses) or narrowed_by_text(query):
        return None
    if not channels and len(statuses) == 1 and sort_by in (SortField.PLACED_AT, SortField.STATUS):
        return None
    if not statuses and len(channels) == 1 and sort_by in (SortField.PLACED_AT, SortField.CHANNEL):
        return None
    pairs = [
        (channel, status)
        for channel in channels or list(Channel)
        for status in statuses or list(OrderStatus)
    ]
    return pairs if len(pairs) <= MAX_MERGED_WALKS else None


def _merged_walks(
    query: OrderListQuery,
    columns: list[ColumnElement[Any]],
    *,
    forwards: bool,
    after: Cursor | None = None,
    limit: int | None = None,
) -> Subquery | None:
    """``columns`` of the first ``limit`` rows (default: a page and one) of each pair's walk
    past ``after``, together; None when one walk serves the view (``_merged_pairs``)."""
    pairs = _merged_pairs(query)
    if pairs is None:
        return None
    order = _walk(query, forwards=forwards)
    walks = []
    for channel, status in pairs:
        pair = query.model_copy(update={"channel": [channel], "status": [status]})
        walk = select(*columns).where(*filters(pair))
        if after is not None and after.value is not None:
            walk = walk.where(_key_condition(query, after, forwards=forwards))
        walks.append(walk.order_by(*order).limit(limit or query.limit + 1))
    return union_all(*walks).subquery("walks")


def _row_columns(query: OrderListQuery) -> list[ColumnElement[Any]]:
    """What each walk reads of a page's rows: ``page_columns`` without the view's total."""
    layout, document = served_document()
    return [layout, document.label("document"), SORT_COLUMNS[query.sort_by.value], order_rows.c.id]


def _merged_page(query: OrderListQuery, merged: Subquery, *, forwards: bool) -> Select[Any]:
    """The merged walks' rows in the list's order, as ``page_columns`` reads them."""
    sort_column = merged.c[SORT_COLUMNS[query.sort_by.value].name]
    return select(
        merged.c.document_layout,
        merged.c.document,
        *_view_total(query),
        sort_column,
        merged.c.id,
    ).order_by(*_walk(query, forwards=forwards, rows=merged))


# A count over the rows (a search or a tag narrows the view) stops at this many and is then
# estimated from the planner's row estimate: counting every match of a broad search costs more
# than the page itself, and "about 12,000" serves the reader as well as 12,031. At 200,000
# orders counting up to 10,000 matches of a name's first letters took PostgreSQL 12-40 ms
# (the page 0.1-2 ms); up to 1,000, 1-8 ms.
EXACT_COUNT_LIMIT = 1_000
# A view the planner expects to hold this many times the limit is not counted at all: the answer
# would be the estimate anyway. At 212,000 orders the planner's estimate of a search was within
# 1.5x of the count for every probe above 5,000 matches, and off by up to 4.5x only below 2,500.
# At 100,000 orders, 400 searches made as the bench's crowd makes them: the 235 estimated above
# 3,000 were within 0.88x to 1.55x of their count, and none held 1,000 or fewer. Under the crowd
# the capped count (1,001 rows rechecked, 3.9 ms) was 38% of PostgreSQL's execution time, most of
# it spent on searches estimated between 3,000 and 5,000 that ended as the estimate anyway.
ESTIMATE_ALONE_FROM = 3


@dataclass(frozen=True)
class ListPage:
    """A page of the list: the orders' JSON, the total (maybe an estimate) and the cursors
    around it (None where the view ends)."""

    documents: list[str]
    total: int
    total_is_estimate: bool
    next_cursor: str | None
    prev_cursor: str | None
    last_cursor: str


def served(rows: list[Any]) -> list[str]:
    return OrderPageRows.of_rows(((layout, document) for layout, document, *_ in rows), 0).documents


async def _exists(connection: AsyncConnection, statement: Select[Any]) -> bool:
    return (await connection.execute(statement)).first() is not None


async def _total(
    connection: AsyncConnection, query: OrderListQuery, rows: list[Any], *, shown_whole: int | None
) -> tuple[int, bool]:
    """The view's size, and whether it is an estimate; ``rows`` are the page's (with the total
    when the day counts answer it), ``shown_whole`` the size when the page read already showed
    where the view ends (no count needed)."""
    if rows and counted_by_day(query) is not None:
        return int(getattr(rows[0], _VIEW_TOTAL)), False
    if shown_whole is not None:
        return shown_whole, False
    if not narrowed_by_text(query):
        # Exact: the day counts, or a placement range within a day in the placement index.
        return int((await connection.execute(count_statement(query))).scalar_one()), False
    estimate = await _estimate(connection, query)
    if estimate >= ESTIMATE_ALONE_FROM * EXACT_COUNT_LIMIT:
        return _about(estimate), True
    capped = select(func.count()).select_from(
        select(order_rows.c.id).where(*filters(query)).limit(EXACT_COUNT_LIMIT + 1).subquery()
    )
    counted = int((await connection.execute(capped)).scalar_one())
    if counted <= EXACT_COUNT_LIMIT:
        return counted, False
    return _about(max(estimate, counted)), True


async def _estimate(connection: AsyncConnection, query: OrderListQuery) -> int:
    """The planner's estimate of the view's rows (``EXPLAIN``: nothing is read)."""
    plan = await json_plan(connection, select(order_rows.c.id).where(*filters(query)))
    return int(plan["Plan Rows"])


class Explained(Executable, ClauseElement):
    """``EXPLAIN (<how>) <statement>``, a statement SQLAlchemy compiles once per shape of
    ``statement`` and ``how``, as it does the statement itself (compiled by hand, a search's
    estimate took 90 µs of CPU to compile on every search)."""

    inherit_cache = True
    _traverse_internals = [
        ("statement", InternalTraversal.dp_clauseelement),
        ("how", InternalTraversal.dp_string),
    ]

    def __init__(self, statement: ClauseElement, how: str) -> None:
        self.statement = statement
        self.how = how

    @property
    def _all_selected_columns(self) -> list[Any]:
        # The plan is the one column, PostgreSQL's own: none of the statement's is selected.
        return []


@compiles(Explained)
def _compile_explained(element: Explained, compiler: Any, **kw: Any) -> str:
    return f"EXPLAIN ({element.how}) {compiler.process(element.statement, **kw)}"


async def json_plan(
    connection: AsyncConnection, statement: Select[Any], options: str = ""
) -> dict[str, Any]:
    """PostgreSQL's plan of ``statement``, its top node (``EXPLAIN (<options> FORMAT JSON)``;
    with ``ANALYZE`` the statement runs)."""
    explained = Explained(statement, f"{options} FORMAT JSON")
    plan = (await connection.execute(explained)).scalar_one()
    plan = orjson.loads(plan) if isinstance(plan, str | bytes) else plan
    top: dict[str, Any] = plan[0]["Plan"]
    return top


def _about(estimate: int) -> int:
    # Two significant figures: the number reads as the estimate it is.
    return int(float(f"{estimate:.2g}"))


async def read_page(connection: AsyncConnection, query: OrderListQuery) -> ListPage:
    """The page a list request asks for: by cursor or ``startAt`` when given (keyset), else
    by page number (OFFSET, kept for the first pages and for existing clients)."""
    if query.cursor is not None or query.start_at is not None:
        cursor = (
            decode_cursor(query.cursor, query)
            if query.cursor is not None
            else start_cursor(query, query.start_at or "")
        )
        rows = list((await connection.execute(cursor_page_statement(query, cursor))).all())
        more = len(rows) > query.limit
        rows = rows[: query.limit]
        if cursor.direction == "before":
            rows.reverse()
            has_prev = more
            has_next = bool(rows) and await _exists(
                connection, beyond_statement(query, _key(rows[-1]), forwards=True)
            )
        else:
            has_next = more
            has_prev = bool(rows) and await _exists(
                connection, beyond_statement(query, _key(rows[0]), forwards=False)
            )
        # Rows with none before or after them are the whole view (no rows: a cursor past the
        # view's end, which tells nothing of its size).
        shown_whole = len(rows) if rows and not (has_prev or has_next) else None
    else:
        rows = list((await connection.execute(_offset_page(query))).all())
        has_next = len(rows) > query.limit
        rows = rows[: query.limit]
        has_prev = query.page > 1 and bool(rows)
        # The last page, found where the rows before it lie: the view ends here.
        ended = not has_next and (bool(rows) or query.page == 1)
        shown_whole = (query.page - 1) * query.limit + len(rows) if ended else None
    total, estimated = await _total(connection, query, rows, shown_whole=shown_whole)
    return ListPage(
        documents=served(rows),
        total=total,
        total_is_estimate=estimated,
        next_cursor=cursor_at(query, "after", _key(rows[-1])) if has_next else None,
        prev_cursor=cursor_at(query, "before", _key(rows[0])) if has_prev else None,
        last_cursor=cursor_at(query, "before", None),
    )


def _key(row: Any) -> tuple[Any, str]:
    return (row[-2], row[-1])
