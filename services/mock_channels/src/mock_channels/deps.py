from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from mock_channels.store import ChannelStore


async def channel_store(request: Request) -> ChannelStore:
    store: ChannelStore = request.app.state.store
    return store


ChannelStoreDep = Annotated[ChannelStore, Depends(channel_store)]
