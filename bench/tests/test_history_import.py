"""The busy day's live orders: each is timed from its creation until the newest orders show it,
and a read the watcher is refused never adds its wait to any order's latency."""

from __future__ import annotations

import itertools
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from bench import history_import
from bench.history_import import LiveOrders

pytestmark = pytest.mark.unit


class Channels:
    """Creates live orders; each becomes visible ``delay_s`` after its creation (``late``: the
    channels whose orders take ``late_s`` instead)."""

    def __init__(self, delay_s: float, late: tuple[str, ...] = (), late_s: float = 0.0) -> None:
        self.delay_s = delay_s
        self.late, self.late_s = late, late_s
        self.created: dict[str, tuple[float, datetime]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def create_orders(self, channel: str, count: int) -> list[str]:
        external_id = f"{channel}-{next(self._ids)}"
        with self._lock:
            self.created[external_id] = (time.monotonic(), datetime.now(UTC))
        return [external_id]

    def visible(self, placed_since: datetime) -> list[str]:
        """Oldest first."""
        now = time.monotonic()
        with self._lock:
            return [
                i
                for i, (at, placed) in self.created.items()
                if now - at >= self._delay_of(i) and placed >= placed_since
            ]

    def _delay_of(self, external_id: str) -> float:
        return self.late_s if external_id.split("-")[0] in self.late else self.delay_s


class Watcher:
    """Answers the order list by placement, of one channel or all; the first ``refusals`` reads
    are refused with a 429."""

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
        assert params["sortBy"] == "placedAt"
        self.reads += 1
        if self.reads <= self.refusals:
            return httpx.Response(429, headers={"Retry-After": "0"})
        shown = self.channels.visible(placed_since)
        if "channel" in params:
            shown = [i for i in shown if i.startswith(f"{params['channel']}-")]
        if params["sortOrder"] == "desc":
            shown.reverse()
        orders = [{"externalId": i} for i in shown[: params["limit"]]]
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


def test_a_late_channel_never_hides_the_others_orders(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(history_import, "WATCH_PAGE", 3)
    monkeypatch.setattr(history_import, "WATCH_MARGIN", timedelta(milliseconds=20))
    channels = Channels(delay_s=0.0, late=("amazon",), late_s=0.5)
    with LiveOrders(channels, Watcher(channels), rate=40) as live:  # type: ignore[arg-type]
        time.sleep(0.6)
    assert live.never == 0
    assert len(live.visible_ms) == live.created
    # A third of the orders are late; the rest show within a few reads, not behind them.
    prompt = sorted(live.visible_ms)[: live.created // 2]
    assert max(prompt) < 250
    assert max(live.visible_ms) >= 500
