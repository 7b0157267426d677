"""The audit log: the keeper that stores every ``audit.v1`` record once, and its pages."""

from __future__ import annotations

from collections.abc import Sequence

from orderhub_common.events import AuditRecorded
from orderhub_common.logging import utc_now
from orders.query_side import WorkStore
from orders.schemas import AuditActions, AuditEntry, AuditPage, AuditQuery, Pagination


class AuditLog:
    """The audit keeper: stores every ``audit.v1`` record once, and serves the log."""

    def __init__(self, store: WorkStore) -> None:
        self._store = store

    async def keep(self, records: Sequence[AuditRecorded]) -> int:
        now = utc_now()
        rows = {
            str(r.event_id): {
                "event_id": str(r.event_id),
                "occurred_at": r.occurred_at,
                "recorded_at": now,
                "service": r.service,
                "action": r.action,
                "outcome": r.outcome.value,
                "actor_id": r.actor_id,
                "actor_email": r.actor_email,
                "target": r.target,
                "client_address": r.client_address,
                "request_id": r.request_id,
                "correlation_id": r.correlation_id,
                "details": r.details,
            }
            for r in records
        }
        return await self._store.append_audit(list(rows.values()))

    async def page(self, query: AuditQuery) -> AuditPage:
        rows, total = await self._store.audit_page(query)
        return AuditPage(
            records=[
                AuditEntry.model_validate({k: v for k, v in row.items() if k != "correlation_id"})
                for row in rows
            ],
            pagination=Pagination.of(query.page, query.limit, total),
        )

    async def actions(self) -> AuditActions:
        return AuditActions(actions=await self._store.audit_actions())
