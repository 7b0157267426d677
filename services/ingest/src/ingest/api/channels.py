from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from ingest.deps import get_channel_repository
from ingest.repository import ChannelRepository
from ingest.schemas import ChannelStatus
from orderhub_common.security import Principal, Role, require_role

router = APIRouter(tags=["channels"])
# The gateway checks the caller first; the service checks again (defence in depth).


@router.get("/channels", summary="Each channel's polling health and ingested count")
async def channel_statuses(
    repository: Annotated[ChannelRepository, Depends(get_channel_repository)],
    _: Annotated[Principal, Depends(require_role(Role.ADMIN, Role.VIEWER))],
) -> list[ChannelStatus]:
    # Redis not answering is 503 by orderhub_common's one rule for store outages.
    return await repository.statuses()
