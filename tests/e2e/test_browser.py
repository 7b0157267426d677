"""The admin SPA in headless Chromium (Playwright, frontend/e2e), against the test stack.

pytest owns the stack's lifecycle, so the browser suite runs inside it as one e2e test; its own
report and the screenshots land in frontend/test-artifacts/.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from orderhub_common.kafka import Topics

pytestmark = pytest.mark.e2e

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"


def _dead_letters_for_the_browser(kafka_options: dict[str, Any], topics: Topics) -> dict[str, str]:
    """Two ingested events the orders service can never store (no phone), for the dead letters
    page to replay after a fix and to discard; named by their external ids."""
    markers = {
        "DEAD_LETTER_REPLAY": f"BRW-{uuid.uuid4().hex[:10]}",
        "DEAD_LETTER_DISCARD": f"BRW-{uuid.uuid4().hex[:10]}",
    }

    def event(external_id: str) -> bytes:
        return json.dumps(
            {
                "eventId": str(uuid.uuid4()),
                "eventType": "order.ingested",
                "schemaVersion": 1,
                "occurredAt": "2026-11-30T10:00:00.000Z",
                "correlationId": "browser-test",
                "order": {
                    "channel": "website",
                    "externalId": external_id,
                    "customer": {"name": "Dead Letter Browser"},
                    "items": [{"sku": "RNG-OXD-007", "name": "Ring", "qty": 1, "price": 699.0}],
                    "total": 699.0,
                    "currency": "INR",
                    "status": "PLACED",
                    "placedAt": "2026-11-30T09:59:00.000Z",
                    "updatedAt": "2026-11-30T09:59:00.000Z",
                },
            },
            indent=2,
        ).encode()

    async def publish() -> None:
        producer = AIOKafkaProducer(**kafka_options)
        await producer.start()
        try:
            for external_id in markers.values():
                key = f"website:{external_id}".encode()
                await producer.send_and_wait(topics.ingested, event(external_id), key=key)
        finally:
            await producer.stop()

    asyncio.run(publish())
    return markers


# The whole browser suite is one test: it gets the subprocess's limit, not the per-test one.
@pytest.mark.timeout(1560)
def test_the_admin_spa_works_in_a_real_browser(
    gateway_url: str,
    mock_channels_url: str,
    credentials: dict[str, tuple[str, str]],
    kafka_options: dict[str, Any],
    topics: Topics,
) -> None:
    if not (FRONTEND / "node_modules").exists() or not Path("/usr/bin/chromium").exists():
        pytest.fail("run through `make test`: it installs the SPA's packages and Chromium")
    admin, viewer = credentials["admin"], credentials["viewer"]
    dead_letters = _dead_letters_for_the_browser(kafka_options, topics)
    result = subprocess.run(
        [shutil.which("npm") or "npm", "run", "--silent", "e2e"],
        cwd=FRONTEND,
        env={
            **os.environ,
            "BASE_URL": gateway_url,
            "MOCK_CHANNELS_URL": mock_channels_url,
            "ADMIN_EMAIL": admin[0],
            "ADMIN_PASSWORD": admin[1],
            "VIEWER_EMAIL": viewer[0],
            "VIEWER_PASSWORD": viewer[1],
            **dead_letters,
            # The committed screenshots (docs/screenshots) change only when asked for
            # (`make screenshots`), so a test run leaves the working tree as it found it.
            "SCREENSHOTS_DIR": os.environ.get(
                "SCREENSHOTS_DIR", str(FRONTEND / "test-artifacts" / "screenshots")
            ),
        },
        capture_output=True,
        text=True,
        timeout=1500,  # the whole browser suite, on a machine that may be busy
        check=False,
    )
    assert result.returncode == 0, f"{result.stdout[-6000:]}\n{result.stderr[-3000:]}"
