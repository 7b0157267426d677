"""The busy day: a history import (orders with their status changes, as a brand connecting its
store brings) while live orders keep arriving at a steady rate. Measures how long each live
order takes to show through the API (it travels the live lane, never behind the import) and
how long the import takes until every order of it is in its final status.

``python -m bench.run --only history-import --history-orders 5000`` runs it alone (smaller);
``make bench`` runs it with ``BenchPlan.history_import_orders`` (100,000 in the full plan).
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bench.api import ApiError, OrderHub, wait_out_rate_limit
from bench.demo_data import DeliveryError, deliver_settled, history_plan
from bench.mix import CHANNELS
from bench.results import HistoryImport
from bench.stats import percentile

LIVE_RATE = 5.0  # live orders a second while the import runs
LIVE_TIMEOUT_S = 120.0  # a live order not visible by then counts as never
# The watcher reads the newest orders this often: the measurement's resolution, and well under
# the watching account's own per-user limit (4 a second is 240 a minute).
WATCH_INTERVAL_S = 0.25
WATCH_PAGE = 100  # orders per read (the API's most)
# Amazon's times have whole seconds: a read starts this far before the oldest waiting order.
WATCH_MARGIN = timedelta(seconds=5)


class LiveOrders:
    """Creates one order at a time at ``rate`` a second, rotating the channels, and times each
    from its creation until the order list shows it.

    The history is placed in the past, so the newest orders are live ones. Every
    ``WATCH_INTERVAL_S`` the watcher reads, in turn, the newest ``WATCH_PAGE`` orders (the last
    20 seconds of them: most live orders are seen there) and, one channel at a time, that
    channel's orders placed since its oldest live order still waiting, oldest first (an order
    slower than the rest is still seen, and one late channel never hides the others). The
    watcher signs in as its own user (``watcher``), so neither its reads nor the import's
    progress polls spend the other's rate limit; a read refused anyway is counted, and its wait
    is no order's latency."""

    def __init__(self, hub: OrderHub, watcher: OrderHub, rate: float = LIVE_RATE) -> None:
        self._hub = hub
        self._watcher = watcher
        self._interval_s = 1 / rate
        self._stop_creating = threading.Event()
        self._stop_watching = threading.Event()
        self._lock = threading.Lock()
        # external id -> when it was created (monotonic, and the wall clock for the read), and
        # the channel it was created at
        self._pending: dict[str, tuple[float, datetime, str]] = {}
        self.visible_ms: list[float] = []
        self.never: int = 0
        self.created: int = 0
        self.watch_refused: int = 0
        self._creator = threading.Thread(target=self._create, name="live-orders", daemon=True)
        self._watcher_thread = threading.Thread(target=self._watch, name="live-watch", daemon=True)

    def __enter__(self) -> LiveOrders:
        self._creator.start()
        self._watcher_thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop_creating.set()
        self._creator.join()
        # The last orders created get their own time to show (each at most LIVE_TIMEOUT_S).
        while self._watcher_thread.is_alive() and self._waiting():
            time.sleep(WATCH_INTERVAL_S)
        self._stop_watching.set()
        self._watcher_thread.join()

    def _waiting(self) -> bool:
        with self._lock:
            return bool(self._pending)

    def _create(self) -> None:
        next_at = time.monotonic()
        while not self._stop_creating.is_set():
            channel = CHANNELS[self.created % len(CHANNELS)]
            with suppress(httpx.HTTPError, ApiError):  # a failed create: the next one counts
                [external_id] = self._hub.create_orders(channel, 1)
                with self._lock:
                    self._pending[external_id] = (time.monotonic(), datetime.now(UTC), channel)
                self.created += 1
            next_at += self._interval_s
            self._stop_creating.wait(max(0.0, next_at - time.monotonic()))

    def _watch(self) -> None:
        # The newest orders every other read; each channel's oldest waiting ones in between.
        reads = itertools.cycle([read for channel in CHANNELS for read in (None, channel)])
        while not self._stop_watching.wait(WATCH_INTERVAL_S):
            channel = next(reads)
            with self._lock:
                waiting = [
                    placed
                    for _, placed, at in self._pending.values()
                    if channel is None or at == channel
                ]
            if not waiting:
                continue
            params: dict[str, Any] = {"limit": WATCH_PAGE, "sortBy": "placedAt"}
            if channel is None:
                params["sortOrder"] = "desc"
            else:
                params |= {"sortOrder": "asc", "channel": channel}
            try:
                response = self._watcher.get(
                    "/orders",
                    params,
                    placed_since=min(waiting) - WATCH_MARGIN,
                    wait_out_limits=False,
                    within_a_second=True,
                )
            except (httpx.HTTPError, ApiError):
                continue  # a restarting service: read again
            if response.status_code == 429:
                self.watch_refused += 1
                wait_out_rate_limit(response)
                continue
            if response.status_code != 200:
                continue
            self._saw({order["externalId"] for order in response.json()["orders"]})

    def _saw(self, shown: set[str]) -> None:
        seen_at = time.monotonic()
        with self._lock:
            for external_id, (created, _, _) in list(self._pending.items()):
                if external_id in shown:
                    self.visible_ms.append(round((seen_at - created) * 1000, 1))
                    del self._pending[external_id]
                elif seen_at - created > LIVE_TIMEOUT_S:
                    self.never += 1
                    del self._pending[external_id]


def history_import(
    hub: OrderHub, watcher: OrderHub, orders: int, rng: random.Random
) -> HistoryImport:
    """``orders`` orders of the last four weeks with their status changes, created at the
    channels while live orders arrive at ``LIVE_RATE`` a second (``watcher``: another user's
    session, which looks for them)."""
    now = datetime.now(UTC)
    failure: str | None = None
    stored_s = settled_s = 0.0
    with LiveOrders(hub, watcher) as live:
        try:
            fill, settled_s = deliver_settled(
                hub, history_plan(orders, now), rng, label="history import", placed_until=now
            )
            stored_s = fill.seconds
        except DeliveryError as exc:
            failure = str(exc)
            settled_s = exc.seconds
    ordered = sorted(live.visible_ms)
    result = HistoryImport(
        orders=orders,
        stored_s=stored_s,
        settled_s=settled_s,
        settled=failure is None,
        live_rate=LIVE_RATE,
        live_orders=live.created,
        live_never_visible=live.never,
        live_p50_ms=percentile(ordered, 50),
        live_p95_ms=percentile(ordered, 95),
        live_max_ms=ordered[-1] if ordered else 0.0,
        live_watch_refused=live.watch_refused,
        failure=failure,
    )
    print(
        f"    history import of {orders:,}: stored after {stored_s:.0f} s, settled after "
        f"{settled_s:.0f} s; {live.created} live orders: p50 {result.live_p50_ms:.0f} ms, "
        f"p95 {result.live_p95_ms:.0f} ms, max {result.live_max_ms:.0f} ms, "
        f"{live.never} never visible, {live.watch_refused} watch reads refused (429)"
    )
    return result
