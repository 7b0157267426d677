"""FastAPI dependencies: the service from app.state, and who is calling.

Tokens are verified here too (not only at the gateway) with the shared verifier kept on
``app.state.jwt_verifier``, and checked against revocation (``app.state.access_revocations``):
every call needs a signed-in admin or viewer whose token still stands, a status move an admin.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from orderhub_common.security import CurrentPrincipal, Principal, Role, require_role
from orders.audit_log import AuditLog
from orders.dead_letters import DeadLetters
from orders.jobs.service import JobService
from orders.lanes import PipelineProbe
from orders.saved_views import SavedViewService
from orders.service import OrderService


async def order_service(request: Request) -> OrderService:
    service: OrderService = request.app.state.order_service
    return service


OrderServiceDep = Annotated[OrderService, Depends(order_service)]


async def dead_letters(request: Request) -> DeadLetters:
    letters: DeadLetters = request.app.state.dead_letters
    return letters


DeadLettersDep = Annotated[DeadLetters, Depends(dead_letters)]
SignedIn = CurrentPrincipal
Admin = Annotated[Principal, Depends(require_role(Role.ADMIN))]


async def job_service(request: Request) -> JobService:
    service: JobService = request.app.state.job_service
    return service


async def saved_view_service(request: Request) -> SavedViewService:
    service: SavedViewService = request.app.state.saved_view_service
    return service


async def audit_log(request: Request) -> AuditLog:
    log: AuditLog = request.app.state.audit_log
    return log


async def pipeline_probe(request: Request) -> PipelineProbe:
    probe: PipelineProbe = request.app.state.pipeline_probe
    return probe


PipelineProbeDep = Annotated[PipelineProbe, Depends(pipeline_probe)]
JobServiceDep = Annotated[JobService, Depends(job_service)]
SavedViewServiceDep = Annotated[SavedViewService, Depends(saved_view_service)]
AuditLogDep = Annotated[AuditLog, Depends(audit_log)]
