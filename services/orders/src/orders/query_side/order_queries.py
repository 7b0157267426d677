"""The statements that answer lists, search, counts and stats from ``order_rows`` and the day
counts; user text only ever becomes a bound literal. Pure: they build SQL, run elsewhere.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    CompoundSelect,
    Select,
    Table,
    Text,
    bindparam,
    cast,
    func,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY, array

from orderhub_common.events import Channel, Order, OrderStatus
from orders.query_side.tables import ORDER_DOCUMENT_LAYOUT, order_day_counts, order_rows
from orders.schemas import ChannelRevenue, OrderFilters, OrderStats

SORT_COLUMNS = {
    "placedAt": order_rows.c.placed_at,
    "total": order_rows.c.total,
    "status": order_rows.c.status,
    "channel": order_rows.c.channel,
    "updatedAt": order_rows.c.updated_at,
}


# Lets a phone number be found however the admin types it: "+91 98765-43210" -> digits.
_PHONE_LIKE = re.compile(r"^[\d\s+().-]+$")
_MIN_PHONE_DIGITS = 3


def served_json(layout: str, document: str) -> str:
    """A stored order's JSON as the API serves it: as kept, unless it was kept in another
    layout (then in today's shape)."""
    if layout == ORDER_DOCUMENT_LAYOUT:
        return document
    return Order.model_validate_json(document).model_dump_json()


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
        return cls([served_json(layout, document) for layout, document in rows], total)

    @property
    def orders(self) -> list[Order]:
        return [Order.model_validate_json(document) for document in self.documents]


@dataclass(frozen=True)
class ServedOrder:
    """One order as the API serves it (its JSON) and its status, which says what may follow."""

    document: str
    status: OrderStatus

    @classmethod
    def of(cls, order: Order) -> ServedOrder:
        return cls(order.model_dump_json(), order.status)

    @classmethod
    def of_row(cls, layout: str, document: str, status: str) -> ServedOrder:
        """From the query side's row: a document of another layout is served in today's shape."""
        return cls(served_json(layout, document), OrderStatus(status))


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
    conditions = _channel_and_status(order_rows, query.channel, query.status)
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


def narrowed_by_text(query: OrderFilters) -> bool:
    """Whether a search or a tag narrows the view: only the rows can tell how many it holds."""
    return bool(search_terms(query.search or "") or query.tag)


def counted_by_day(query: OrderFilters) -> DaySplit | None:
    """How the day counts answer this query's totals; None when a search or a tag narrows it,
    or its placement range holds no whole day (the rows answer it)."""
    if narrowed_by_text(query):
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


def _channel_and_status(
    table: Table, channels: Iterable[Channel], statuses: Iterable[OrderStatus]
) -> list[ColumnElement[bool]]:
    """The channel and status filters, on the rows or on the running counts alike."""
    conditions: list[ColumnElement[bool]] = []
    if channels:
        conditions.append(table.c.channel.in_(sorted({c.value for c in channels})))
    if statuses:
        conditions.append(table.c.status.in_(sorted({s.value for s in statuses})))
    return conditions


def served_document() -> tuple[ColumnElement[str], ColumnElement[str]]:
    """The order's layout and JSON text as stored, for answers that pass it on unparsed."""
    return order_rows.c.document_layout, cast(order_rows.c.document, Text)


# One order's served document and its status, by id (the primary key): built once, with the id
# a parameter. Built on each detail read, the statement and its cache key cost 120 µs of CPU, as
# much as SQLAlchemy's execution of it.
ORDER_DOCUMENT = select(*served_document(), order_rows.c.status).where(
    order_rows.c.id == bindparam("order_id")
)


def matching_statement(query: OrderFilters, ids: list[str]) -> Select[str]:
    """Which of ``ids`` a list under ``query`` holds: the list's own conditions."""
    return select(order_rows.c.id).where(order_rows.c.id.in_(ids), *filters(query))


def count_statement(query: OrderFilters) -> Select[Any]:
    split = counted_by_day(query)
    if split is None:
        return select(func.count()).select_from(order_rows).where(*filters(query))
    return _day_count_statement(*_channels_and_statuses(query), split)


def _channels_and_statuses(
    query: OrderFilters,
) -> tuple[tuple[Channel, ...], tuple[OrderStatus, ...]]:
    """The channel and status filters in one spelling, as the statements built once key them."""
    return tuple(sorted(set(query.channel))), tuple(sorted(set(query.status)))


@functools.lru_cache(maxsize=512)
def _day_count_statement(
    channels: tuple[Channel, ...], statuses: tuple[OrderStatus, ...], split: DaySplit
) -> Select[Any]:
    """The total of a view the day counts answer, built once for each filter that asks it: a
    statement is immutable, and building this one cost more (65 µs) than PostgreSQL's answer."""
    counts = order_day_counts.c
    parts = [
        select(func.sum(counts.orders).label("orders")).where(
            *_channel_and_status(order_day_counts, channels, statuses), *_whole_days(split)
        ),
        *(
            select(func.count().label("orders")).where(
                *_channel_and_status(order_rows, channels, statuses), *part
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
    return _day_stats_statement(*_channels_and_statuses(query), split)


@functools.lru_cache(maxsize=512)
def _day_stats_statement(
    channels: tuple[Channel, ...], statuses: tuple[OrderStatus, ...], split: DaySplit
) -> Select[Any] | CompoundSelect[Any]:
    """Stats the day counts answer, built once for each filter (as ``_day_count_statement``)."""
    counts = order_day_counts.c
    by_day = (
        select(
            counts.channel,
            counts.status,
            counts.currency,
            cast(func.sum(counts.orders), BigInteger),
            func.sum(counts.revenue),
        )
        .where(*_channel_and_status(order_day_counts, channels, statuses), *_whole_days(split))
        .group_by(counts.channel, counts.status, counts.currency)
    )
    parts = [
        totals_by_group().where(*_channel_and_status(order_rows, channels, statuses), *part)
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


def totals_by_group() -> Select[Any]:
    """Orders and revenue per (channel, status, currency), counted from the rows."""
    return select(
        order_rows.c.channel,
        order_rows.c.status,
        order_rows.c.currency,
        func.count(),
        func.sum(order_rows.c.total),
    ).group_by(order_rows.c.channel, order_rows.c.status, order_rows.c.currency)


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
