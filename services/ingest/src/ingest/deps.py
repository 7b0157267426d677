from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ingest.service import ChannelService


async def channel_service(request: Request) -> ChannelService:
    service: ChannelService = request.app.state.channel_service
    return service


ChannelServiceDep = Annotated[ChannelService, Depends(channel_service)]
