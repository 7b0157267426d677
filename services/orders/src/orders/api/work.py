"""Working on many orders: ``/bulk-moves``, ``/jobs``, ``/exports``, ``/views`` and ``/audit``.
Handlers only translate HTTP to the services' calls."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status
from fastapi.responses import StreamingResponse

from orderhub_common.http import ClientAddress
from orders.deps import (
    Admin,
    AuditLogDep,
    JobServiceDep,
    SavedViewServiceDep,
    SignedIn,
)
from orders.schemas import (
    AuditActions,
    AuditPage,
    AuditQuery,
    BulkMoveAnswer,
    BulkStatusMove,
    DownloadQuery,
    ExportRequest,
    JobEnvelope,
    JobItemPage,
    JobItemQuery,
    SavedViewChange,
    SavedViewEnvelope,
    SavedViewList,
    SavedViewWrite,
)

router = APIRouter()

# Job and view ids are made here (``job_<hex>``, ``view_<hex>``): anything else is no such id.
Id = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]

_AUTH: dict[int | str, dict[str, str]] = {
    401: {"description": "Not signed in, or the access token is not valid"},
}
_ADMIN: dict[int | str, dict[str, str]] = {
    **_AUTH,
    403: {"description": "Signed in without the admin role"},
}
_JOB_404: dict[int | str, dict[str, str]] = {404: {"description": "No such job (`job_not_found`)"}}


@router.post(
    "/bulk-moves",
    tags=["bulk moves"],
    responses={
        **_ADMIN,
        202: {"model": BulkMoveAnswer, "description": "A job moving every order of the view"},
        422: {
            "description": "Invalid, or a move to SHIPPED without a tracking number for some "
            "orders (`tracking_number_missing`, `details.orders` names them)"
        },
    },
)
async def bulk_move(
    request: BulkStatusMove,
    response: Response,
    jobs: JobServiceDep,
    admin: Admin,
    address: ClientAddress,
) -> BulkMoveAnswer:
    """Moves the orders picked on a page at once (200 with what moved and what was refused and
    why), or every order matching a view as a background job (202 with the job). Each order
    goes through the state machine exactly as a single move does, and needs what it needs: the
    move to SHIPPED a `shipment` with a carrier and a tracking number for every order (keyed by
    order id or external id; else 422 `tracking_number_missing` naming them, before anything
    moves), the move to CANCELLED a reason in `note` (else 422)."""
    if request.order_ids is not None:
        return BulkMoveAnswer(result=await jobs.move_page(request, admin, address))
    response.status_code = status.HTTP_202_ACCEPTED
    return BulkMoveAnswer(job=await jobs.start_bulk_move(request, admin, address))


@router.get("/jobs/{job_id}", tags=["jobs"], responses={**_AUTH, **_JOB_404})
async def get_job(job_id: Id, jobs: JobServiceDep, reader: SignedIn) -> JobEnvelope:
    """A job's progress; a finished export carries a fresh signed download link."""
    return JobEnvelope(job=await jobs.get(job_id, reader))


@router.get("/jobs/{job_id}/items", tags=["jobs"], responses={**_ADMIN, **_JOB_404})
async def job_items(
    job_id: Id, query: Annotated[JobItemQuery, Query()], jobs: JobServiceDep, admin: Admin
) -> JobItemPage:
    """What became of each order of a bulk move, in the view's order, optionally one outcome."""
    return await jobs.items(job_id, query, admin)


@router.post(
    "/jobs/{job_id}/cancel",
    tags=["jobs"],
    responses={**_AUTH, **_JOB_404, 409: {"description": "Already finished (`job_finished`)"}},
)
async def cancel_job(
    job_id: Id, jobs: JobServiceDep, reader: SignedIn, address: ClientAddress
) -> JobEnvelope:
    """Stops a job between two chunks; what it already did stays done."""
    return JobEnvelope(job=await jobs.cancel(job_id, reader, address))


@router.post(
    "/exports",
    tags=["exports"],
    status_code=202,
    responses={
        **_AUTH,
        429: {
            "description": "The caller has as many exports queued or running, or started in "
            "the last 24 hours, as allowed (`export_limit_reached`, with `Retry-After`)"
        },
    },
)
async def start_export(
    request: ExportRequest, jobs: JobServiceDep, reader: SignedIn, address: ClientAddress
) -> JobEnvelope:
    """A CSV of every order of the view (filters, search, sort) as a background job."""
    return JobEnvelope(job=await jobs.start_export(request, reader, address))


@router.get(
    "/exports/{job_id}/download",
    tags=["exports"],
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/csv": {}}, "description": "The CSV file"},
        403: {"description": "The link is not valid or has expired (`download_link_invalid`)"},
        409: {"description": "The export has not finished (`export_not_ready`)"},
        410: {"description": "The file was deleted after its retention (`export_expired`)"},
    },
)
async def download_export(
    job_id: Id, query: Annotated[DownloadQuery, Query()], jobs: JobServiceDep
) -> StreamingResponse:
    """The export's file, by the signed link its job gives (no token needed until it expires,
    but only for the user it was made for, as long as their access stands)."""
    name, chunks = await jobs.download(job_id, query)
    return StreamingResponse(
        chunks,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/views", tags=["views"], responses=_AUTH)
async def list_views(views: SavedViewServiceDep, reader: SignedIn) -> SavedViewList:
    """The caller's saved views and the team's shared ones."""
    return SavedViewList(views=await views.list(reader))


_VIEW_ERRORS: dict[int | str, dict[str, str]] = {
    **_AUTH,
    403: {"description": "Sharing (admins only), or changing a view shared by someone else"},
    409: {"description": "The caller has a view of that name (`view_name_taken`)"},
}


@router.post("/views", tags=["views"], status_code=201, responses=_VIEW_ERRORS)
async def create_view(
    request: SavedViewWrite, views: SavedViewServiceDep, reader: SignedIn, address: ClientAddress
) -> SavedViewEnvelope:
    return SavedViewEnvelope(view=await views.create(request, reader, address))


@router.patch(
    "/views/{view_id}",
    tags=["views"],
    responses={**_VIEW_ERRORS, 404: {"description": "No such view (`view_not_found`)"}},
)
async def change_view(
    view_id: Id,
    request: SavedViewChange,
    views: SavedViewServiceDep,
    reader: SignedIn,
    address: ClientAddress,
) -> SavedViewEnvelope:
    return SavedViewEnvelope(view=await views.change(view_id, request, reader, address))


@router.delete(
    "/views/{view_id}",
    tags=["views"],
    status_code=204,
    responses={**_VIEW_ERRORS, 404: {"description": "No such view (`view_not_found`)"}},
)
async def delete_view(
    view_id: Id, views: SavedViewServiceDep, reader: SignedIn, address: ClientAddress
) -> Response:
    await views.delete(view_id, reader, address)
    return Response(status_code=204)


@router.get("/audit", tags=["audit"], responses=_ADMIN)
async def audit(query: Annotated[AuditQuery, Query()], log: AuditLogDep, _: Admin) -> AuditPage:
    """The audit log, newest first: who did what, when, from where, with which request id.
    Append-only: there is no route that changes or removes a record."""
    return await log.page(query)


@router.get("/audit/actions", tags=["audit"], responses=_ADMIN)
async def audit_actions(log: AuditLogDep, _: Admin) -> AuditActions:
    """The actions the audit log holds, for the log's filter to offer."""
    return await log.actions()
