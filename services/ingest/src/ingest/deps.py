from __future__ import annotations

from fastapi import Request

from ingest.repository import ChannelRepository


def get_channel_repository(request: Request) -> ChannelRepository:
    repository: ChannelRepository = request.app.state.channel_repository
    return repository
