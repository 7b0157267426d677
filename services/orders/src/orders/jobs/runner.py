"""The background job runner: bulk status moves over a view and CSV exports.

Jobs, and each order a bulk move covers, are kept in PostgreSQL (``query_side.WorkStore``), so
a job survives the process: a runner takes the oldest unfinished job under a lease it renews
while it works, and a job whose runner died (SIGKILL) is taken over once its lease lapses.

- A bulk move works through its items a chunk at a time. Each order goes through
  ``OrderService.move_one_of_many`` (the state machine, the outbox, the projection) with an
  event id made of the job, the order and the revision: an order moved just before a crash,
  whose outcome was not yet recorded, is recognised by that id and not moved again.
- An export walks the view by keyset in chunks and stores each chunk's CSV, so its memory does
  not grow with the number of orders. A resumed export starts its file again.

Cancelling sets a flag the runner reads between chunks. Between chunks the runner also checks
that its creator's access still stands: a job carries the access version its creator's token had
when it was started, and auth moves that version on a demotion, a deactivation, a password or
email change (``orderhub_common.revocation``; orders cannot read auth's users). Once it has moved
the job stops, ``cancelled`` with the reason in ``error``: the job acts with its creator's
authority, which ended. While Redis does not answer the job waits (a store outage: its lease
lapses and it is taken up again) rather than run on unchecked; unlike a request, a job loses
nothing by waiting.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from loguru import logger

from orderhub_common.errors import is_store_outage
from orderhub_common.events import OrderStatus, Shipment
from orderhub_common.revocation import AccessRevocations
from orderhub_common.workers import run_rounds
from orders import csv_export
from orders.jobs.service import CREATOR_VERSION
from orders.query_side import WorkStore
from orders.schemas import JobKind, JobState, OrderView
from orders.service import OrderService

MOVE_CHUNK = 50
EXPORT_CHUNK = 1000

CREATOR_ACCESS_ENDED = (
    "stopped: its creator's access ended after it started (demoted, deactivated, or their "
    "password or email changed); what it already did stays done"
)


class JobRunner:
    def __init__(
        self,
        orders: OrderService,
        store: WorkStore,
        revocations: AccessRevocations,
        *,
        lease_s: float = 10.0,
        idle_s: float = 1.0,
    ) -> None:
        self._orders = orders
        self._store = store
        self._revocations = revocations
        self._lease_s = lease_s
        self._idle_s = idle_s
        self._owner = f"runner-{uuid.uuid4().hex[:12]}"
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        # A failed round is a store outage: the job stays leased, then is retried.
        await run_rounds(
            self.run_once,
            name="job runner",
            interval_s=self._idle_s,
            wake=self._wake,
            on_error=lambda exc: logger.warning(f"job runner: {exc!r}"),
        )

    async def run_once(self) -> bool:
        """Works on one job until it ends or is no longer ours; False when there was none."""
        job = await self._store.take_job(self._owner, self._lease_s)
        if job is None:
            return False
        logger.info(f"job {job['id']} ({job['kind']}) taken by {self._owner}")
        try:
            if job["kind"] == JobKind.STATUS_MOVE:
                await self._move(job)
            else:
                await self._export(job)
        except Exception as exc:
            if is_store_outage(exc):
                raise
            logger.exception(f"job {job['id']} failed")
            await self._store.finish_job(job["id"], JobState.FAILED.value, error=str(exc)[:500])
        return True

    async def _still_ours(self, job_id: str) -> dict[str, Any] | None:
        """The job's row while this runner still holds it, it is not cancelled and its creator's
        access still stands."""
        if not await self._store.renew_job(job_id, self._owner, self._lease_s):
            return None
        row = await self._store.job(job_id)
        if row is None:
            return None
        if row["cancel_requested"]:
            await self._store.finish_job(job_id, JobState.CANCELLED.value)
            return None
        if not await self._creator_access_stands(row):
            logger.info(f"job {job_id} stopped: the access of {row['created_by']} ended")
            await self._store.finish_job(
                job_id, JobState.CANCELLED.value, error=CREATOR_ACCESS_ENDED
            )
            return None
        return row

    async def _creator_access_stands(self, row: dict[str, Any]) -> bool:
        started_under = row["params"].get(CREATOR_VERSION)
        if started_under is None:  # started before jobs kept it
            return True
        current = await self._revocations.version_of(row["created_by"])
        return current == started_under

    async def _move(self, job: dict[str, Any]) -> None:
        params = job["params"]
        target = OrderStatus(params["status"])
        shipments = None
        if "trackingNumbers" in params:
            shipments = {
                order_id: Shipment(carrier=params["carrier"], tracking_number=number)
                for order_id, number in params["trackingNumbers"].items()
            }
        while await self._still_ours(job["id"]) is not None:
            pending = await self._store.pending_items(job["id"], MOVE_CHUNK)
            if not pending:
                await self._store.finish_job(job["id"], JobState.SUCCEEDED.value)
                logger.info(f"job {job['id']} finished")
                return
            outcomes = await self._orders.move_many(
                [order_id for _, order_id in pending],
                target,
                changed_by=job["created_by"],
                note=params.get("note"),
                job_id=job["id"],
                changed_by_email=params.get("changedByEmail"),
                shipments=shipments,
                bulk_move=job["id"],
            )
            await self._store.record_items(
                job["id"],
                [
                    (
                        position,
                        "moved" if outcome.moved else "refused",
                        outcome.code,
                        outcome.from_status.value if outcome.from_status else None,
                        outcome.message,
                    )
                    for (position, _), outcome in zip(pending, outcomes, strict=True)
                ],
            )

    async def _export(self, job: dict[str, Any]) -> None:
        view = OrderView.model_validate(job["params"].get("view") or {})
        sort_by, sort_order = view.sort_by.value, view.sort_order
        await self._store.clear_export(job["id"])
        await self._store.add_export_chunk(job["id"], 0, csv_export.header(), 0)
        after: tuple[Any, str] | None = None
        seq, written = 1, 0
        while await self._still_ours(job["id"]) is not None:
            rows = await self._store.export_chunk(view, sort_by, sort_order, after, EXPORT_CHUNK)
            if not rows:
                await self._store.set_progress(job["id"], total=written, processed=written)
                await self._store.finish_job(job["id"], JobState.SUCCEEDED.value)
                logger.info(f"export {job['id']} finished: {written} orders")
                return
            data = csv_export.encode_rows(csv_export.row_of(document) for _, _, document in rows)
            written += len(rows)
            await self._store.add_export_chunk(job["id"], seq, data, written)
            key, order_id, _ = rows[-1]
            after = (key, order_id)
            seq += 1
            del rows, data
