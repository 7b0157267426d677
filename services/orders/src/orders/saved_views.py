"""Saved views: named presets of the orders list, per user; an admin may share one."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import JsonValue

from orderhub_common.audit import AuditTrail
from orderhub_common.logging import utc_now
from orderhub_common.security import Principal, Role
from orders.errors import ViewChangeForbiddenError, ViewNameTakenError, ViewNotFoundError
from orders.query_side import WorkStore
from orders.schemas import OrderView, SavedView, SavedViewChange, SavedViewWrite


def view_of(row: dict[str, Any], reader_id: str) -> SavedView:
    return SavedView(
        id=row["id"],
        name=row["name"],
        owner_id=row["owner_id"],
        mine=row["owner_id"] == reader_id,
        shared=row["shared"],
        is_default=row["is_default"] and row["owner_id"] == reader_id,
        view=OrderView.model_validate(row["query"]),
        columns=list(row["columns"]),
        page_size=row.get("page_size"),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


class SavedViewService:
    """Named presets of the list, per user; an admin may share one with the team."""

    def __init__(self, store: WorkStore, *, audit: AuditTrail | None = None) -> None:
        self._store = store
        self._audit = audit

    async def _record(self, action: str, *, actor: Principal, **kwargs: Any) -> None:
        if self._audit is not None:
            await self._audit.record(action, actor=actor, actor_email=actor.email, **kwargs)

    async def list(self, reader: Principal) -> list[SavedView]:
        return [view_of(row, reader.user_id) for row in await self._store.views_for(reader.user_id)]

    async def create(
        self, request: SavedViewWrite, actor: Principal, client_address: str | None
    ) -> SavedView:
        if request.shared and actor.role != Role.ADMIN:
            raise ViewChangeForbiddenError("only an admin may share a view with the team")
        now = utc_now()
        row = {
            "id": f"view_{uuid.uuid4().hex}",
            "owner_id": actor.user_id,
            "name": request.name,
            "shared": request.shared,
            "is_default": request.is_default,
            "query": request.view.model_dump(mode="json", by_alias=True, exclude_none=True),
            "columns": request.columns,
            "page_size": request.page_size,
            "created_at": now,
            "updated_at": now,
        }
        saved = await self._store.save_view(row, is_new=True)
        if saved is None:
            raise ViewNameTakenError(f"you already have a view named {request.name!r}")
        await self._record_saved(saved, actor, client_address, shared_now=request.shared)
        return view_of(saved, actor.user_id)

    async def _record_saved(
        self, row: dict[str, Any], actor: Principal, client_address: str | None, *, shared_now: bool
    ) -> None:
        details: dict[str, JsonValue] = {"name": row["name"], "shared": row["shared"]}
        await self._record(
            "view.saved",
            actor=actor,
            target=row["id"],
            client_address=client_address,
            details=details,
        )
        if shared_now:
            await self._record(
                "view.shared",
                actor=actor,
                target=row["id"],
                client_address=client_address,
                details=details,
            )

    async def _owned(self, view_id: str, actor: Principal) -> dict[str, Any]:
        row = await self._store.view(view_id)
        if row is None or (row["owner_id"] != actor.user_id and not row["shared"]):
            raise ViewNotFoundError(f"no view {view_id}")
        if row["owner_id"] != actor.user_id and actor.role != Role.ADMIN:
            raise ViewChangeForbiddenError("a view shared by the team is changed by an admin")
        return row

    async def change(
        self, view_id: str, request: SavedViewChange, actor: Principal, client_address: str | None
    ) -> SavedView:
        row = await self._owned(view_id, actor)
        if (
            request.shared is not None
            and request.shared != row["shared"]
            and actor.role != Role.ADMIN
        ):
            raise ViewChangeForbiddenError("only an admin may share a view with the team")
        changed = dict(row)
        if request.name is not None:
            changed["name"] = request.name
        if request.view is not None:
            changed["query"] = request.view.model_dump(
                mode="json", by_alias=True, exclude_none=True
            )
        if request.columns is not None:
            changed["columns"] = request.columns
        if request.page_size is not None:
            changed["page_size"] = request.page_size
        if request.is_default is not None:
            if row["owner_id"] != actor.user_id:
                raise ViewChangeForbiddenError("only a view's owner makes it their default")
            changed["is_default"] = request.is_default
        if request.shared is not None:
            changed["shared"] = request.shared
        changed["updated_at"] = utc_now()
        saved = await self._store.save_view(changed, is_new=False)
        if saved is None:
            raise ViewNameTakenError(f"you already have a view named {changed['name']!r}")
        await self._record_saved(
            saved, actor, client_address, shared_now=bool(request.shared) and not row["shared"]
        )
        return view_of(saved, actor.user_id)

    async def delete(self, view_id: str, actor: Principal, client_address: str | None) -> None:
        row = await self._owned(view_id, actor)
        await self._store.delete_view(view_id)
        await self._record(
            "view.deleted",
            actor=actor,
            target=view_id,
            client_address=client_address,
            details={"name": row["name"]},
        )
