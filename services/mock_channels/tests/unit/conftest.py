"""The simulator's unit suite: a client of a fresh simulator, unseeded, its control API on."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from mock_channels.main import create_app
from mock_channels.settings import MockChannelsSettings


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(MockChannelsSettings(seed_orders=0, control_api=True))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
        yield client
