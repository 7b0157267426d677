"""The query side's tables for working on many orders (``WorkStore``): jobs and their
progress, export chunks, saved views and the audit log, on the projection's engine.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError

from orderhub_common.logging import utc_now
from orders.query_side.order_queries import (
    count_statement,
    export_chunk_statement,
    filters,
    view_ordering,
)
from orders.query_side.projection import QuerySide
from orders.query_side.tables import (
    audit_records,
    export_chunks,
    job_items,
    jobs,
    order_rows,
    saved_views,
)
from orders.schemas import AuditQuery, OrderFilters

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


# Run with a list of records: compiled once, where a VALUES list of each batch's length was
# compiled again for every batch. The ids it returns are those of the records stored now.
_APPEND_AUDIT = (
    insert(audit_records)
    .on_conflict_do_nothing(index_elements=[audit_records.c.event_id])
    .returning(audit_records.c.event_id)
)


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

    async def record_items(self, job_id: str, outcomes: Sequence[ItemOutcome]) -> None:
        """Records the outcome of items not yet recorded, and moves the job's counters by what
        was recorded, in one transaction."""
        if not outcomes:
            return
        moved = refused = 0
        async with self.engine.begin() as connection:
            for position, outcome, reason, from_status, message in outcomes:
                result = await connection.execute(
                    update(job_items)
                    .where(
                        job_items.c.job_id == job_id,
                        job_items.c.position == position,
                        job_items.c.outcome.is_(None),
                    )
                    .values(
                        outcome=outcome, reason=reason, from_status=from_status, message=message
                    )
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
        labelled = job_items.outerjoin(order_rows, order_rows.c.id == job_items.c.order_id)
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(job_items, *_LABEL_COLUMNS)
                .select_from(labelled)
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

    # Orders as an admin knows them -------------------------------------------------------------
    async def order_labels(self, order_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The external id, channel and customer's name of each of these orders the query side
        holds, by order id."""
        if not order_ids:
            return {}
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(order_rows.c.id, *_LABEL_COLUMNS).where(order_rows.c.id.in_(order_ids))
            )
            return {row.id: dict(row._mapping) for row in rows}

    async def view_labels(self, view: OrderFilters, limit: int) -> list[dict[str, Any]]:
        """The id and external id of up to ``limit`` orders matching the view."""
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(order_rows.c.id, order_rows.c.external_id).where(*filters(view)).limit(limit)
            )
            return [dict(row._mapping) for row in rows]

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
        async with self.engine.begin() as connection:
            return len((await connection.execute(_APPEND_AUDIT, list(rows))).all())

    async def audit_page(self, query: AuditQuery) -> tuple[list[dict[str, Any]], int]:
        """A page of the log; a record about an order carries the order's external id."""
        conditions = audit_conditions(query)
        offset, limit = (query.page - 1) * query.limit, query.limit
        about_orders = audit_records.outerjoin(
            order_rows, order_rows.c.id == audit_records.c.target
        )
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(
                    audit_records,
                    order_rows.c.external_id.label("target_external_id"),
                    order_rows.c.channel.label("target_channel"),
                )
                .select_from(about_orders)
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

    async def audit_actions(self) -> list[str]:
        """Every action the log holds (a handful: the distinct values of an indexed column)."""
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(audit_records.c.action).distinct().order_by(audit_records.c.action)
            )
            return [action for (action,) in rows]


# (position, outcome, reason code, from status, message) of one item of a bulk move.
ItemOutcome = tuple[int, str, str | None, str | None, str | None]

_LABEL_COLUMNS = (
    order_rows.c.external_id,
    order_rows.c.channel,
    order_rows.c.document["customer"]["name"].astext.label("customer"),
)


def _seconds(value: float) -> timedelta:
    return timedelta(seconds=value)


def audit_conditions(query: AuditQuery) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    for column, value in (
        (audit_records.c.actor_id, query.actor_id),
        (audit_records.c.outcome, query.outcome),
    ):
        if value is not None:
            conditions.append(column == value)
    if query.action is not None:
        # A part of an action's name finds it: "bulk" finds bulk_move.started and the others.
        conditions.append(audit_records.c.action.contains(query.action, autoescape=True))
    if query.actor is not None:
        # Who acted, by their email (any part of it) or their id.
        conditions.append(
            or_(
                audit_records.c.actor_email.icontains(query.actor, autoescape=True),
                audit_records.c.actor_id == query.actor,
            )
        )
    if query.target is not None:
        # An order is found by its external id as well as by its id.
        by_external_id = select(order_rows.c.id).where(order_rows.c.external_id == query.target)
        conditions.append(
            or_(audit_records.c.target == query.target, audit_records.c.target.in_(by_external_id))
        )
    if query.occurred_from is not None:
        conditions.append(audit_records.c.occurred_at >= query.occurred_from)
    if query.occurred_to is not None:
        conditions.append(audit_records.c.occurred_at <= query.occurred_to)
    return conditions
