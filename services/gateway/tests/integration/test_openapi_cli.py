"""``gateway-openapi`` prints the combined document from the running services."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from .conftest import FakeOrders, free_port, serving

pytestmark = pytest.mark.integration


async def test_the_cli_prints_the_document_of_the_services_that_answer() -> None:
    port = free_port()
    environment = {
        **os.environ,
        "ORDERS_URL": f"http://127.0.0.1:{port}",
        "AUTH_URL": f"http://127.0.0.1:{free_port()}",  # nothing listens: left out
        "INGEST_URL": f"http://127.0.0.1:{free_port()}",
    }
    async with serving(FakeOrders().app(), port):
        process = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).with_name("gateway-openapi")),
            env=environment,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), 60)

    assert process.returncode == 0, stderr.decode()
    document = json.loads(stdout)
    assert "/api/orders/{order_id}/status" in document["paths"]
    assert "/api/events" in document["paths"]
    assert not any(path.startswith("/api/auth") for path in document["paths"])
