"""Bulk status moves and exports as jobs: started, read, cancelled and downloaded here; run
by ``jobs.runner.JobRunner`` in the background.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import JsonValue

from orderhub_common.audit import AuditTrail
from orderhub_common.events import Shipment
from orderhub_common.logging import utc_now
from orderhub_common.revocation import AccessRevocations
from orderhub_common.security import Principal, Role
from orders.download_links import DownloadLinks, LinkHolder, signed_link
from orders.errors import (
    BulkShipmentTooLargeError,
    DownloadLinkInvalidError,
    ExportExpiredError,
    ExportLimitError,
    ExportNotReadyError,
    JobFinishedError,
    JobNotFoundError,
    TrackingNumberMissingError,
)
from orders.export_retention import ExportRules, export_limit_message
from orders.query_side import UNFINISHED_JOB_STATES, ExportLimitReached, WorkStore
from orders.schemas import (
    MAX_BULK_TRACKING_NUMBERS,
    BulkMoveResult,
    BulkStatusMove,
    DownloadQuery,
    ExportRequest,
    Job,
    JobItem,
    JobItemOutcome,
    JobItemPage,
    JobItemQuery,
    JobKind,
    JobState,
    OrderView,
    Pagination,
    RefusedMove,
)
from orders.service import OrderService


def job_of(row: dict[str, Any]) -> Job:
    """A stored job as the API serves it (without a download link: ``JobService`` adds it)."""
    params = row["params"]
    job = Job(
        id=row["id"],
        kind=JobKind(row["kind"]),
        state=JobState(row["state"]),
        created_by=row["created_by"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        finished_at=row["finished_at"],
        total=row["total"],
        processed=row["processed"],
        moved=row["moved"],
        refused=row["refused"],
        cancel_requested=row["cancel_requested"],
        error=row["error"],
        status=params.get("status"),
        view=OrderView.model_validate(params.get("view") or {}),
    )
    return job


# The creator's access version when the job was started (``jobs.runner.JobRunner`` stops the job
# once it moves).
CREATOR_VERSION = "creatorVersion"


def _new_job_row(kind: JobKind, creator: Principal, params: dict[str, Any]) -> dict[str, Any]:
    now = utc_now()
    return {
        "id": f"job_{uuid.uuid4().hex}",
        "kind": kind.value,
        "state": JobState.QUEUED.value,
        "created_by": creator.user_id,
        "created_at": now,
        "updated_at": now,
        "params": {**params, CREATOR_VERSION: creator.token_version},
        "total": 0,
        "processed": 0,
        "moved": 0,
        "refused": 0,
        "cancel_requested": False,
    }


class JobService:
    """Bulk status moves and exports: started here, run by ``jobs.runner.JobRunner`` in the
    background (any replica, resumed after a crash), read and cancelled here."""

    def __init__(
        self,
        orders: OrderService,
        store: WorkStore,
        links: DownloadLinks,
        *,
        audit: AuditTrail | None = None,
        wake: Callable[[], None] = lambda: None,
        rules: ExportRules | None = None,
        revocations: AccessRevocations | None = None,
    ) -> None:
        self._orders = orders
        self._store = store
        self._links = links
        self._audit = audit
        self._wake = wake
        self._rules = rules or ExportRules()
        self._revocations = revocations

    async def _record(self, action: str, *, actor: Principal, **kwargs: Any) -> None:
        if self._audit is not None:
            await self._audit.record(action, actor=actor, actor_email=actor.email, **kwargs)

    async def move_page(
        self, request: BulkStatusMove, actor: Principal, client_address: str | None
    ) -> BulkMoveResult:
        """The orders picked on a page, moved now (each as a single move would be)."""
        ids = list(dict.fromkeys(request.order_ids or []))
        labels = await self._store.order_labels(ids)
        shipments = self._shipments(
            request, [(i, (labels.get(i) or {}).get("external_id")) for i in ids]
        )
        bulk_move = f"bulk_{uuid.uuid4().hex}"
        outcomes = await self._orders.move_many(
            ids,
            request.status,
            changed_by=actor.user_id,
            changed_by_email=actor.email,
            note=request.note,
            shipments=shipments,
            bulk_move=bulk_move,
            client_address=client_address,
        )
        result = BulkMoveResult(
            moved=[o.order_id for o in outcomes if o.moved],
            refused=[
                RefusedMove(
                    order_id=o.order_id,
                    external_id=(labels.get(o.order_id) or {}).get("external_id"),
                    channel=(labels.get(o.order_id) or {}).get("channel"),
                    customer=(labels.get(o.order_id) or {}).get("customer"),
                    code=o.code or "",
                    message=o.message or "",
                )
                for o in outcomes
                if not o.moved
            ],
        )
        await self._record(
            "bulk_move.applied",
            actor=actor,
            target=bulk_move,
            client_address=client_address,
            details={
                "status": request.status.value,
                "moved": len(result.moved),
                "refused": len(result.refused),
                "orderIds": cast_json(ids),
            },
        )
        return result

    @staticmethod
    def _shipments(
        request: BulkStatusMove, orders: Sequence[tuple[str, str | None]]
    ) -> dict[str, Shipment] | None:
        """Each order's shipment of a move to SHIPPED, by order id; refused as a whole, naming
        them, when some order has no tracking number."""
        if request.shipment is None:
            return None
        shipment = request.shipment
        found: dict[str, Shipment] = {}
        missing: list[tuple[str, str | None]] = []
        for order_id, external_id in orders:
            number = shipment.tracking_for(order_id, external_id)
            if number is None:
                missing.append((order_id, external_id))
            else:
                found[order_id] = Shipment(carrier=shipment.carrier, tracking_number=number)
        if missing:
            named = [external_id or order_id for order_id, external_id in missing]
            shown = ", ".join(named[:20])
            if len(named) > 20:
                shown += f" and {len(named) - 20} more"
            raise TrackingNumberMissingError(
                f"no tracking number for {len(named)} of the {len(orders)} orders: {shown}; "
                "give one per order (by order id or external id) before shipping them",
                details={
                    "orders": [
                        {"orderId": order_id, "externalId": external_id}
                        for order_id, external_id in missing
                    ]
                },
            )
        return found

    async def start_bulk_move(
        self, request: BulkStatusMove, actor: Principal, client_address: str | None
    ) -> Job:
        view = request.view or OrderView()
        params: dict[str, Any] = {
            "status": request.status.value,
            "note": request.note,
            "changedByEmail": actor.email,
            "view": view.model_dump(mode="json", by_alias=True, exclude_none=True),
        }
        if request.shipment is not None:
            covered = await self._store.view_labels(view, MAX_BULK_TRACKING_NUMBERS + 1)
            if len(covered) > MAX_BULK_TRACKING_NUMBERS:
                raise BulkShipmentTooLargeError(
                    f"at most {MAX_BULK_TRACKING_NUMBERS} orders can be shipped in one bulk "
                    "move; narrow the view"
                )
            shipments = self._shipments(
                request, [(row["id"], row["external_id"]) for row in covered]
            )
            params["carrier"] = request.shipment.carrier
            # By order id: an order that joins the view after this check has none, and is
            # refused by the job (``tracking_number_missing``).
            params["trackingNumbers"] = {
                order_id: shipment.tracking_number
                for order_id, shipment in (shipments or {}).items()
            }
        row = _new_job_row(JobKind.STATUS_MOVE, actor, params)
        stored = await self._store.create_job(
            row, items_of=view, sort=(view.sort_by.value, view.sort_order)
        )
        self._wake()
        job = job_of(stored)
        await self._record(
            "bulk_move.started",
            actor=actor,
            target=job.id,
            client_address=client_address,
            details={
                "status": request.status.value,
                "total": job.total,
                "view": row["params"]["view"],
            },
        )
        return job

    async def start_export(
        self, request: ExportRequest, actor: Principal, client_address: str | None
    ) -> Job:
        view = request.view
        row = _new_job_row(
            JobKind.EXPORT,
            actor,
            {"view": view.model_dump(mode="json", by_alias=True, exclude_none=True)},
        )
        row["total"] = await self._store.count(view)
        stored = await self._store.create_export(
            row,
            running_limit=self._rules.running_per_user,
            daily_limit=self._rules.per_user_per_day,
        )
        if isinstance(stored, ExportLimitReached):
            raise ExportLimitError(export_limit_message(stored), retry_after_s=stored.retry_after_s)
        job = job_of(stored)
        self._wake()
        await self._record(
            "export.requested",
            actor=actor,
            target=job.id,
            client_address=client_address,
            details={"view": row["params"]["view"], "total": job.total},
        )
        return job

    async def _visible(self, job_id: str, reader: Principal) -> dict[str, Any]:
        row = await self._store.job(job_id)
        # Viewers see their own exports only; a job of someone else's is as good as absent.
        if row is None or (reader.role != Role.ADMIN and row["created_by"] != reader.user_id):
            raise JobNotFoundError(f"no job {job_id}")
        return row

    async def get(self, job_id: str, reader: Principal) -> Job:
        return self._served(await self._visible(job_id, reader), reader)

    def _served(self, row: dict[str, Any], reader: Principal) -> Job:
        """The job; a finished export whose file is kept with a fresh link made for ``reader``,
        expiring no later than the file is kept."""
        job = job_of(row)
        if job.kind != JobKind.EXPORT or job.state != JobState.SUCCEEDED:
            return job
        if row.get("files_deleted_at") is not None or job.finished_at is None:
            return job
        kept_until = int(self._rules.files_kept_until(job.finished_at).timestamp())
        now = time.time()
        if kept_until <= now:
            return job
        holder = LinkHolder(reader.user_id, reader.role, reader.token_version)
        url, expires = self._links.link(job.id, holder, now=now, not_after=kept_until)
        job.download_url = url
        job.download_expires_at = datetime.fromtimestamp(expires, tz=UTC)
        return job

    async def items(self, job_id: str, query: JobItemQuery, reader: Principal) -> JobItemPage:
        await self._visible(job_id, reader)
        outcome = None if query.outcome is None else query.outcome.value
        rows, total = await self._store.item_page(
            job_id, outcome, (query.page - 1) * query.limit, query.limit
        )
        return JobItemPage(
            items=[
                JobItem(
                    position=row["position"],
                    order_id=row["order_id"],
                    external_id=row["external_id"],
                    channel=row["channel"],
                    customer=row["customer"],
                    outcome=JobItemOutcome(row["outcome"] or "pending"),
                    code=row["reason"],
                    message=row["message"],
                    from_status=row["from_status"],
                )
                for row in rows
            ],
            pagination=Pagination.of(query.page, query.limit, total),
        )

    async def cancel(self, job_id: str, actor: Principal, client_address: str | None) -> Job:
        row = await self._visible(job_id, actor)
        if row["state"] not in UNFINISHED_JOB_STATES:
            raise JobFinishedError(f"job {job_id} has already finished ({row['state']})")
        await self._store.request_cancel(job_id)
        await self._record(
            f"{'bulk_move' if row['kind'] == JobKind.STATUS_MOVE else 'export'}.cancelled",
            actor=actor,
            target=job_id,
            client_address=client_address,
            details={"processed": row["processed"], "total": row["total"]},
        )
        return self._served(await self._visible(job_id, actor), actor)

    async def download(self, job_id: str, query: DownloadQuery) -> tuple[str, AsyncIterator[bytes]]:
        """The export's file name and its bytes, for a signed link that has not expired, made
        for a user who may still read it (its owner, or an admin) and whose access has not
        changed since (demoted, deactivated)."""
        link = signed_link(query)
        if link is None or not self._links.valid(job_id, link):
            raise DownloadLinkInvalidError("this download link is not valid or has expired")
        holder = link.holder
        if (
            self._revocations is not None
            and await self._revocations.current_version(holder.user_id) != holder.access_version
        ):
            raise DownloadLinkInvalidError(
                "the account this link was made for has changed since; ask for a new link"
            )
        row = await self._store.job(job_id)
        if row is None or row["kind"] != JobKind.EXPORT:
            raise JobNotFoundError(f"no export {job_id}")
        if row["created_by"] != holder.user_id and holder.role != Role.ADMIN:
            raise DownloadLinkInvalidError("this download link was not made for this export")
        if row["state"] != JobState.SUCCEEDED:
            raise ExportNotReadyError(f"export {job_id} is {row['state']}, not finished")
        if row.get("files_deleted_at") is not None:
            raise ExportExpiredError(
                f"export {job_id}'s file was deleted after it was kept "
                f"{self._rules.retention_s // 60} minutes; export the view again"
            )
        stamp = row["created_at"].strftime("%Y%m%d-%H%M%S")
        return f"orders-{stamp}.csv", self._store.export_data(job_id)


def cast_json(values: Sequence[str]) -> list[JsonValue]:
    return list(values)
