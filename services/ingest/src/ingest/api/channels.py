from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from ingest.deps import ChannelServiceDep
from ingest.schemas import ChannelStatus, ConnectionTestResult
from orderhub_common.events import Channel
from orderhub_common.http import ClientAddress
from orderhub_common.security import Principal, Role, require_role

router = APIRouter(tags=["channels"])
# The gateway checks the caller first; the service checks again (defence in depth).


@router.get("/channels", summary="Each channel's polling health and ingested count")
async def channel_statuses(
    service: ChannelServiceDep,
    _: Annotated[Principal, Depends(require_role(Role.ADMIN, Role.VIEWER))],
) -> list[ChannelStatus]:
    return await service.statuses()


@router.post(
    "/channels/{channel}/pause",
    summary="Pause a channel's ingestion (audited); orders placed meanwhile arrive on resume",
)
async def pause_channel(
    channel: Channel,
    address: ClientAddress,
    service: ChannelServiceDep,
    admin: Annotated[Principal, Depends(require_role(Role.ADMIN))],
) -> ChannelStatus:
    return await service.set_paused(channel, True, actor=admin, client_address=address)


@router.post("/channels/{channel}/resume", summary="Resume a channel's ingestion (audited)")
async def resume_channel(
    channel: Channel,
    address: ClientAddress,
    service: ChannelServiceDep,
    admin: Annotated[Principal, Depends(require_role(Role.ADMIN))],
) -> ChannelStatus:
    return await service.set_paused(channel, False, actor=admin, client_address=address)


@router.post(
    "/channels/{channel}/connection-test",
    summary=(
        "Test a channel's connection (admin, audited): sign in and read once; the answer says "
        "in plain words what worked or failed, never a credential"
    ),
)
async def test_channel_connection(
    channel: Channel,
    address: ClientAddress,
    service: ChannelServiceDep,
    admin: Annotated[Principal, Depends(require_role(Role.ADMIN))],
) -> ConnectionTestResult:
    return await service.test_connection(channel, actor=admin, client_address=address)
