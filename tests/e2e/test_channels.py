"""Channels through the whole stack: orders placed at the mock channels are polled by ingest,
and each channel's health and ingested count show at ``GET /api/channels``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from devstack.pytest_plugin import eventually_sync

pytestmark = pytest.mark.e2e

# Through the whole stack, ingestion takes seconds.
INGEST_WAIT_S = 45

CHANNELS = ("website", "amazon", "blinkit")


def channel_rows(gateway_url: str, headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    response = httpx.get(f"{gateway_url}/api/channels", headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    return {row["channel"]: row for row in response.json()}


def create_orders(mock_channels_url: str, channel: str, count: int) -> list[str]:
    response = httpx.post(
        f"{mock_channels_url}/_control/{channel}/orders", json={"count": count}, timeout=10
    )
    assert response.status_code == 200, response.text
    created: list[str] = response.json()["created"]
    return created


def set_faults(mock_channels_url: str, channel: str, **faults: Any) -> None:
    response = httpx.put(f"{mock_channels_url}/_control/{channel}/faults", json=faults, timeout=10)
    assert response.status_code == 200, response.text


def test_orders_created_at_every_channel_are_counted_as_ingested(
    gateway_url: str, mock_channels_url: str, viewer_headers: dict[str, str]
) -> None:
    before = channel_rows(gateway_url, viewer_headers)
    assert set(before) == set(CHANNELS)
    wanted = {"website": 3, "amazon": 4, "blinkit": 5}
    for channel, count in wanted.items():
        assert len(create_orders(mock_channels_url, channel, count)) == count

    def all_counted() -> bool:
        rows = channel_rows(gateway_url, viewer_headers)
        return all(
            rows[c]["ordersIngested"] >= before[c]["ordersIngested"] + n for c, n in wanted.items()
        )

    eventually_sync(all_counted, what="every created order to be ingested", timeout_s=INGEST_WAIT_S)
    rows = channel_rows(gateway_url, viewer_headers)
    for channel in CHANNELS:
        assert rows[channel]["circuit"] == "closed"
        assert rows[channel]["lastSuccessAt"] is not None


def test_a_status_moved_at_a_channel_is_ingested_again(
    gateway_url: str, mock_channels_url: str, viewer_headers: dict[str, str]
) -> None:
    start = channel_rows(gateway_url, viewer_headers)["blinkit"]["ordersIngested"]

    def counted(at_least: int) -> Callable[[], bool]:
        return lambda: (
            channel_rows(gateway_url, viewer_headers)["blinkit"]["ordersIngested"] >= at_least
        )

    [order_id] = create_orders(mock_channels_url, "blinkit", 1)
    eventually_sync(
        counted(start + 1), what="the new order to be ingested", timeout_s=INGEST_WAIT_S
    )
    moved = httpx.post(
        f"{mock_channels_url}/_control/blinkit/orders/{order_id}/status",
        json={"status": "CONFIRMED"},
        timeout=10,
    )
    assert moved.json()["status"] == "accepted"
    eventually_sync(
        counted(start + 2), what="the status move to be ingested", timeout_s=INGEST_WAIT_S
    )


def test_a_channel_outage_shows_at_api_channels_and_heals(
    gateway_url: str,
    mock_channels_url: str,
    service_urls: dict[str, str],
    viewer_headers: dict[str, str],
) -> None:
    before = channel_rows(gateway_url, viewer_headers)
    set_faults(mock_channels_url, "amazon", down=True)
    try:
        create_orders(mock_channels_url, "website", 2)

        def amazon_open_website_flowing() -> bool:
            rows = channel_rows(gateway_url, viewer_headers)
            return (
                rows["amazon"]["circuit"] == "open"
                and rows["website"]["ordersIngested"] >= before["website"]["ordersIngested"] + 2
            )

        eventually_sync(
            amazon_open_website_flowing, what="amazon's circuit to open", timeout_s=INGEST_WAIT_S
        )
        amazon = channel_rows(gateway_url, viewer_headers)["amazon"]
        assert amazon["lastErrorAt"] is not None
        assert "503" in amazon["lastError"]
        ingest_ready = httpx.get(f"{service_urls['ingest']}/readyz", timeout=5)
        assert ingest_ready.status_code == 200, "a down channel is not an unready ingest"
    finally:
        set_faults(mock_channels_url, "amazon", down=False)

    counted_before = channel_rows(gateway_url, viewer_headers)["amazon"]["ordersIngested"]
    create_orders(mock_channels_url, "amazon", 2)

    def amazon_healed() -> bool:
        row = channel_rows(gateway_url, viewer_headers)["amazon"]
        return row["circuit"] == "closed" and row["ordersIngested"] >= counted_before + 2

    eventually_sync(amazon_healed, what="amazon to heal and ingest again", timeout_s=INGEST_WAIT_S)
