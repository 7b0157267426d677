"""The busy day's live orders: each is timed from its creation until the newest orders show it,
and a read the watcher is refused never adds its wait to any order's latency."""

from __future__ import annotations

import itertools
import threading
import time
from datetime import datetime
from typing import Any

import httpx
import pytest

from bench import history_import
from bench.history_import import LiveOrders

pytestmark = pytest.mark.unit


class Channels:
    """Creates live orders; each becomes visible ``delay_s`` after its creation."""

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self.created: dict[str, float] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def create_orders(self, channel: str, count: int) -> list[str]:
        external_id = f"{channel}-{next(self._ids)}"
        with self._lock:
            self.created[external_id] = time.monotonic()
        return [external_id]

    def visible(self) -> list[str]:
        now = time.monotonic()
        with self._lock:
            return [i for i, at in self.created.items() if now - at >= self.delay_s]


class Watcher:
    """Answers the newest orders; the first ``refusals`` reads are refused with a 429."""

    def __init__(self, channels: Channels, refusals: int = 0) -> None:
        self.channels = channels
        self.refusals = refusals
        self.reads = 0

    def get(
        self,
        path: str,
        params: dict[str, Any],
        placed_since: datetime,
        *,
        wait_out_limits: bool,
        within_a_second: bool,
    ) -> httpx.Response:
        assert not wait_out_limits, "a timed read must not wait inside the call"
        assert within_a_second, "the read starts just before the oldest waiting order"
        assert params["sortOrder"] == "asc", "the oldest waiting first"
        self.reads += 1
        if self.reads <= self.refusals:
            return httpx.Response(429, headers={"Retry-After": "0"})
        orders = [{"externalId": i} for i in self.channels.visible()][: params["limit"]]
        return httpx.Response(200, json={"orders": orders})


@pytest.fixture(autouse=True)
def fast_watch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(history_import, "WATCH_INTERVAL_S", 0.02)
    monkeypatch.setattr(history_import, "wait_out_rate_limit", lambda response: None)


def test_each_live_order_is_timed_until_the_newest_orders_show_it() -> None:
    channels = Channels(delay_s=0.2)
    with LiveOrders(channels, Watcher(channels), rate=20) as live:  # type: ignore[arg-type]
        time.sleep(0.6)
        created = live.created
    assert created >= 5
    # Those created last were waited for too: every one was seen.
    assert live.never == 0
    assert len(live.visible_ms) == live.created
    assert all(200 <= ms < 600 for ms in live.visible_ms)


def test_a_live_order_that_never_shows_counts_as_never_visible(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(history_import, "LIVE_TIMEOUT_S", 0.2)
    channels = Channels(delay_s=60)
    with LiveOrders(channels, Watcher(channels), rate=20) as live:  # type: ignore[arg-type]
        time.sleep(0.2)
    assert live.created >= 2
    assert live.never == live.created
    assert live.visible_ms == []


def test_a_refused_watch_read_is_counted_and_adds_no_latency() -> None:
    channels = Channels(delay_s=0.0)
    watcher = Watcher(channels, refusals=3)
    with LiveOrders(channels, watcher, rate=20) as live:  # type: ignore[arg-type]
        time.sleep(0.5)
    assert live.watch_refused == 3
    assert live.visible_ms
    assert max(live.visible_ms) < 300
