"""The mock channels limit each client address themselves (in memory: they have no Redis)."""

from __future__ import annotations

import pytest

from mock_channels.main import create_app
from mock_channels.settings import MockChannelsSettings
from orderhub_common.testing import assert_limits_each_address

pytestmark = pytest.mark.unit


async def test_the_mock_channels_answer_each_address_up_to_their_own_rate_limit() -> None:
    settings = MockChannelsSettings(environment="test", seed_orders=0, rate_limit_per_ip_per_min=3)
    await assert_limits_each_address(create_app(settings), 3)
