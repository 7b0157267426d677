from __future__ import annotations

from fastapi import Request

from mock_channels.store import ChannelStore


def get_store(request: Request) -> ChannelStore:
    store: ChannelStore = request.app.state.store
    return store
