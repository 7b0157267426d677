"""Orders reached on its own port limits each client address itself (counts in its Redis);
what the gateway relays, it limited at the edge."""

from __future__ import annotations

import pytest

from devstack.pytest_plugin import InfraUrls
from orderhub_common.testing import assert_limits_each_address
from orders.main import create_app

from .conftest import orders_settings

pytestmark = pytest.mark.integration


async def test_orders_answers_each_address_up_to_its_own_rate_limit(
    infra: InfraUrls, unique_name: str
) -> None:
    settings = orders_settings(infra, unique_name).model_copy(
        update={"rate_limit_per_ip_per_min": 3, "forwarded_allow_ips": "127.0.0.1"}
    )
    await assert_limits_each_address(create_app(settings), 3, trusted_proxy="127.0.0.1")
