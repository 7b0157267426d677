"""The busy day: a history import (orders with their status changes, as a brand connecting its
store brings) while live orders keep arriving at a steady rate. Measures how long each live
order takes to show through the API (it travels the live lane, never behind the import) and
how long the import takes until every order of it is in its final status.

``python -m bench.run --only history-import --history-orders 5000`` runs it alone (smaller);
``make bench`` runs it with ``BenchPlan.history_import_orders`` (100,000 in the full plan).
"""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from datetime import UTC, datetime

import httpx

from bench.api import ApiError, OrderHub
from bench.demo_data import DeliveryError, deliver_settled, history_plan
from bench.mix import CHANNELS
from bench.results import HistoryImport
from bench.stats import percentile

LIVE_RATE = 5.0  # live orders a second while the import runs
LIVE_TIMEOUT_S = 120.0  # a live order not visible by then counts as never
LIVE_CHECKERS = 4  # live orders looked for at once
CHECK_INTERVAL_S = 0.1


class LiveOrders:
    """Creates one order at a time at ``rate`` a second, rotating the channels, and times each
    from its creation until a search through the API finds it."""

    def __init__(self, hub: OrderHub, rate: float = LIVE_RATE) -> None:
        self._hub = hub
        self._interval_s = 1 / rate
        self._stop = threading.Event()
        self._checkers = ThreadPoolExecutor(LIVE_CHECKERS, thread_name_prefix="live-check")
        self._lock = threading.Lock()
        self.visible_ms: list[float] = []
        self.never: int = 0
        self.created: int = 0
        self._thread = threading.Thread(target=self._create, name="live-orders", daemon=True)

    def __enter__(self) -> LiveOrders:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self._checkers.shutdown(wait=True)

    def _create(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            channel = CHANNELS[self.created % len(CHANNELS)]
            with suppress(httpx.HTTPError, ApiError):  # a failed create: the next one counts
                [external_id] = self._hub.create_orders(channel, 1)
                self.created += 1
                self._checkers.submit(self._time_visible, external_id, time.monotonic())
            next_at += self._interval_s
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def _time_visible(self, external_id: str, created: float) -> None:
        while time.monotonic() - created < LIVE_TIMEOUT_S:
            with suppress(httpx.HTTPError, ApiError):  # a restarting service: poll again
                if self._hub.find_by_external_id(external_id):
                    with self._lock:
                        self.visible_ms.append(round((time.monotonic() - created) * 1000, 1))
                    return
            time.sleep(CHECK_INTERVAL_S)
        with self._lock:
            self.never += 1


def history_import(hub: OrderHub, orders: int, rng: random.Random) -> HistoryImport:
    """``orders`` orders of the last four weeks with their status changes, created at the
    channels while live orders arrive at ``LIVE_RATE`` a second."""
    now = datetime.now(UTC)
    failure: str | None = None
    stored_s = settled_s = 0.0
    with LiveOrders(hub) as live:
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
        failure=failure,
    )
    print(
        f"    history import of {orders:,}: stored after {stored_s:.0f} s, settled after "
        f"{settled_s:.0f} s; {live.created} live orders: p50 {result.live_p50_ms:.0f} ms, "
        f"p95 {result.live_p95_ms:.0f} ms, max {result.live_max_ms:.0f} ms, "
        f"{live.never} never visible"
    )
    return result
