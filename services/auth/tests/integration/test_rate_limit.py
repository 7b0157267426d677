"""Auth reached on its own port limits each client address itself (counts in its Redis)."""

from __future__ import annotations

from typing import Any

import pytest

from auth.main import create_app
from orderhub_common.testing import assert_limits_each_address

from .conftest import auth_settings, cheap_passwords

pytestmark = pytest.mark.integration


async def test_auth_answers_each_address_up_to_its_own_rate_limit(
    infra: Any, database: str
) -> None:
    settings = auth_settings(infra, database, rate_limit_per_ip_per_min=3)
    await assert_limits_each_address(
        create_app(settings, passwords=cheap_passwords()), 3, trusted_proxy="127.0.0.1"
    )
