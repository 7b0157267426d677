"""Ingest reached on its own port limits each client address itself (counts in its Redis)."""

from __future__ import annotations

import pytest

from devstack.pytest_plugin import InfraUrls
from ingest.main import create_app
from orderhub_common.testing import assert_limits_each_address

from .conftest import ingest_settings

pytestmark = pytest.mark.integration


async def test_ingest_answers_each_address_up_to_its_own_rate_limit(
    infra: InfraUrls, unique_name: str
) -> None:
    settings = ingest_settings(infra, unique_name, INGEST_RATE_LIMIT_PER_IP_PER_MIN=3)
    await assert_limits_each_address(create_app(settings), 3)
