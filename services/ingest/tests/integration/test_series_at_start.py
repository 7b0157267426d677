"""What a poller exports before its first poll (issue 25, item 7): its channel's counters at 0,
so the first failure after a restart is an increase an alert sees, and the channel's last success
as recorded before the restart, so a channel that stalls across restarts still looks stalled."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client import REGISTRY

from ingest import metrics
from orderhub_common.events import Channel

from .conftest import PollerKit, create_orders

pytestmark = pytest.mark.integration


def sample(name: str, channel: Channel) -> float | None:
    return REGISTRY.get_sample_value(name, {"channel": channel.value})


async def test_a_restarted_poller_exports_the_last_success_and_its_counters_at_zero(
    kit: PollerKit, channels: httpx.AsyncClient
) -> None:
    await create_orders(channels, Channel.AMAZON, 2)
    before = kit.poller(Channel.AMAZON, owner="before-restart")
    assert await before.lease.take_or_renew()
    await before.poll()
    await before.lease.release()
    succeeded_at = sample("ingest_last_success_timestamp_seconds", Channel.AMAZON)
    assert succeeded_at is not None
    # A new process: none of the channel's series exists yet.
    for series in (metrics.LAST_SUCCESS, *metrics.CHANNEL_COUNTERS):
        series.remove(Channel.AMAZON.value)

    await kit.poller(Channel.AMAZON, owner="after-restart").export_known_state()

    assert sample("ingest_last_success_timestamp_seconds", Channel.AMAZON) == succeeded_at
    assert sample("ingest_poll_failures_total", Channel.AMAZON) == 0.0
    assert sample("ingest_normalization_failures_total", Channel.AMAZON) == 0.0
