from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from redis.exceptions import RedisError

from ingest.deps import get_ingest_state
from ingest.schemas import ChannelStatus
from ingest.state import IngestState
from orderhub_common.errors import ServiceUnavailableError
from orderhub_common.security import Principal, Role, require_role

router = APIRouter(tags=["channels"])
# The gateway checks the caller first; the service checks again (defence in depth).


@router.get("/channels", summary="Each channel's polling health and ingested count")
async def channel_statuses(
    state: Annotated[IngestState, Depends(get_ingest_state)],
    _: Annotated[Principal, Depends(require_role(Role.ADMIN, Role.VIEWER))],
) -> list[ChannelStatus]:
    try:
        return await state.statuses()
    except RedisError as exc:
        raise ServiceUnavailableError("channel status is unavailable right now") from exc
