from __future__ import annotations

from fastapi import Request

from ingest.service import ChannelService


def get_channel_service(request: Request) -> ChannelService:
    service: ChannelService = request.app.state.channel_service
    return service
