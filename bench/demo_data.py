"""``make demo-data N=...``: a realistic order history at the three mock channels, then a wait
until the pipeline has stored all of it and every order is in its final status (its status
changes come after it, on the history lane), with progress bars, the rate and the times.

The history spans four weeks: orders are placed evenly over the days (backdated through the
control API's placement window) and split 40/35/25 over website, Amazon and Blinkit; each has
got as far along its life as its age makes likely (last day's mostly PLACED or CONFIRMED,
older ones mostly DELIVERED, about one in eight CANCELLED), which the channel reports by moving
it at once.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import httpx

from bench.api import ApiError, OrderHub, StackNotUpError
from bench.progress import ProgressBar, format_duration
from bench.results import Fill
from bench.stack import local_stack

CHANNEL_SHARES = {"website": 0.40, "amazon": 0.35, "blinkit": 0.25}
HISTORY_DAYS = 28
MAX_PER_CALL = 10_000  # the control API's limit on one POST /_control/{channel}/orders
# Where an order of a given age (up to the bound) has got to, in percent.
OUTCOMES_BY_AGE: tuple[tuple[timedelta, dict[str, int]], ...] = (
    (timedelta(days=1), {"PLACED": 55, "CONFIRMED": 25, "SHIPPED": 8, "CANCELLED": 12}),
    (
        timedelta(days=4),
        {"PLACED": 6, "CONFIRMED": 14, "SHIPPED": 44, "DELIVERED": 24, "CANCELLED": 12},
    ),
    (timedelta.max, {"SHIPPED": 2, "DELIVERED": 86, "CANCELLED": 12}),
)
# The pipeline must store at least this many orders a second, after a start-up allowance.
MIN_RATE = 20.0
START_ALLOWANCE_S = 60.0
STALL_LIMIT_S = 180.0
MOVE_WORKERS = 8
POLL_INTERVAL_S = 1.0


@dataclass(frozen=True)
class Batch:
    """One control API call: ``count`` new orders at ``channel``, placed in the window."""

    channel: str
    count: int
    placed_between: tuple[datetime, datetime] | None
    outcomes: dict[str, int]  # where they get to; {"PLACED": 100} moves none


def split(total: int, shares: dict[str, float]) -> dict[str, int]:
    """``total`` split by ``shares`` exactly (largest remainder), in the order of ``shares``."""
    weight = sum(shares.values())
    exact = {key: total * share / weight for key, share in shares.items()}
    counts = {key: int(value) for key, value in exact.items()}
    by_remainder = sorted(exact, key=lambda key: exact[key] - counts[key], reverse=True)
    for key in by_remainder[: total - sum(counts.values())]:
        counts[key] += 1
    return counts


def outcomes_for_age(age: timedelta) -> dict[str, int]:
    return next(outcomes for bound, outcomes in OUTCOMES_BY_AGE if age < bound)


def chunks(count: int, size: int = MAX_PER_CALL) -> list[int]:
    return [min(size, count - start) for start in range(0, count, size)]


def history_plan(total: int, now: datetime, days: int = HISTORY_DAYS) -> list[Batch]:
    """Batches for ``total`` orders placed evenly over the ``days`` before ``now``."""
    batches = []
    for channel, channel_total in split(total, CHANNEL_SHARES).items():
        per_day = split(channel_total, {str(day): 1.0 for day in range(days)})
        for day in range(days):
            window = (now - timedelta(days=day + 1), now - timedelta(days=day))
            outcomes = outcomes_for_age(now - (window[0] + (window[1] - window[0]) / 2))
            batches += [
                Batch(channel, part, window, outcomes) for part in chunks(per_day[str(day)])
            ]
    return batches


def new_orders_plan(total: int) -> list[Batch]:
    """Batches for ``total`` orders placed now and left in PLACED."""
    return [
        Batch(channel, part, None, {"PLACED": 100})
        for channel, count in split(total, CHANNEL_SHARES).items()
        for part in chunks(count)
    ]


def pick_outcome(outcomes: dict[str, int], rng: random.Random) -> str:
    return rng.choices(list(outcomes), weights=list(outcomes.values()))[0]


def wait_budget_s(count: int) -> float:
    """How long ``count`` orders may take to arrive before the wait gives up."""
    return START_ALLOWANCE_S + count / MIN_RATE


class DeliveryError(RuntimeError):
    """Not every order arrived: ``arrived`` of them had after ``seconds``."""

    def __init__(self, message: str, *, arrived: int, seconds: float) -> None:
        super().__init__(message)
        self.arrived = arrived
        self.seconds = seconds


def create_at_channels(
    hub: OrderHub,
    batches: list[Batch],
    rng: random.Random,
    finals: Counter[str] | None = None,
) -> dict[str, str]:
    """Creates every batch and makes the channel moves; returns the last id created per channel
    and counts in ``finals`` how many orders end in each status."""
    last_created: dict[str, str] = {}
    with ThreadPoolExecutor(MOVE_WORKERS, thread_name_prefix="channel-move") as moves:
        pending = []
        for batch in batches:
            created = hub.create_orders(batch.channel, batch.count, batch.placed_between)
            last_created[batch.channel] = created[-1]
            for external_id in created:
                outcome = pick_outcome(batch.outcomes, rng)
                if finals is not None:
                    finals[outcome] += 1
                if outcome != "PLACED":
                    pending.append(
                        moves.submit(hub.move_at_channel, batch.channel, external_id, outcome)
                    )
        for move in pending:
            move.result()  # re-raises the first failed move
    return last_created


class StoreProbe(Protocol):
    """What the wait asks the stack: the stored count, and whether one order is there."""

    def stored_total(self) -> int: ...

    def find_by_external_id(self, external_id: str) -> dict[str, Any] | None: ...


def wait_until_stored(
    hub: StoreProbe,
    creation: Future[dict[str, str]],
    *,
    target_total: int,
    expected: int,
    on_progress: Callable[[int], None],
    budget_s: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Returns once ``creation`` is done, the store holds ``target_total`` orders and each
    channel's last created order is found.

    A poll the stack does not answer (a service restarting) counts as no progress. Raises
    DeliveryError when ``budget_s`` is spent or nothing arrives for STALL_LIMIT_S, and whatever
    ``creation`` raised as soon as it failed.
    """
    started = clock()
    baseline = target_total - expected
    best, best_at = baseline, started
    unanswered: Exception | None = None
    while True:
        if creation.done() and creation.exception() is not None:
            creation.result()  # re-raises why the orders could not be created
        try:
            total = hub.stored_total()
            arrived = creation.done() and total >= target_total
            if arrived and all(map(hub.find_by_external_id, creation.result().values())):
                on_progress(total - baseline)
                return
            unanswered = None
        except (httpx.HTTPError, ApiError) as exc:
            total, unanswered = best, exc
        on_progress(total - baseline)
        now = clock()
        if total > best:
            best, best_at = total, now
        why = f" (last poll: {unanswered})" if unanswered else ""
        if now - started > budget_s:
            raise DeliveryError(
                f"only {best - baseline:,} of {expected:,} orders arrived within "
                f"{format_duration(budget_s)}{why}; see .run/logs/ingest.log and orders.log",
                arrived=best - baseline,
                seconds=now - started,
            )
        if now - best_at > STALL_LIMIT_S:
            raise DeliveryError(
                f"no new order arrived for {format_duration(now - best_at)} "
                f"({best - baseline:,} of {expected:,} stored){why}; is ingest or orders "
                "stuck? See .run/logs/ingest.log and orders.log",
                arrived=best - baseline,
                seconds=now - started,
            )
        sleep(POLL_INTERVAL_S)


@dataclass(frozen=True)
class PlacedSince:
    """Counts only orders placed since ``since``: new orders, but none from earlier runs."""

    hub: OrderHub
    since: datetime

    def stored_total(self) -> int:
        return self.hub.stored_total(placed_since=self.since)

    def find_by_external_id(self, external_id: str) -> dict[str, Any] | None:
        return self.hub.find_by_external_id(external_id)


def deliver(
    hub: OrderHub,
    batches: list[Batch],
    rng: random.Random,
    *,
    label: str,
    finals: Counter[str] | None = None,
) -> Fill:
    """Creates the batches at the channels and waits until all are stored, showing progress.

    The clock runs from the first create call to the poll that saw the last order stored; the
    orders are created while the progress is already being polled. Orders placed now are
    counted exactly (by placement time); a backdated history by the growth of the whole store.
    """
    expected = sum(batch.count for batch in batches)
    probe: StoreProbe = hub
    if all(batch.placed_between is None for batch in batches):
        # Second-precision channels (Amazon) round placement times down.
        probe = PlacedSince(hub, datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1))
    baseline = probe.stored_total()
    counted = "stored so far" if probe is hub else "placed in the last second"
    print(f"{label}: {expected:,} orders at the channels; {baseline:,} {counted}", flush=True)
    bar = ProgressBar(expected)
    started = time.monotonic()
    with ThreadPoolExecutor(1, thread_name_prefix="channel-create") as creator:
        creation = creator.submit(create_at_channels, hub, batches, rng, finals)
        try:
            wait_until_stored(
                probe,
                creation,
                target_total=baseline + expected,
                expected=expected,
                on_progress=bar.update,
                budget_s=wait_budget_s(expected),
            )
        finally:
            creation.cancel()
            bar.finish()
    seconds = time.monotonic() - started
    return Fill(orders=expected, seconds=round(seconds, 1), rate=round(expected / seconds, 1))


class StatusProbe(Protocol):
    """How many orders placed up to a moment are in each status (the dashboard's stats)."""

    def by_status(self) -> dict[str, int]: ...


@dataclass(frozen=True)
class PlacedUntil:
    hub: OrderHub
    until: datetime

    def by_status(self) -> dict[str, int]:
        stats = self.hub.get_json("/orders/stats", {"to": self.until.isoformat()})
        return {status: int(count) for status, count in stats["byStatus"].items()}


def unsettled(target: dict[str, int], now: dict[str, int]) -> int:
    """Orders still short of their final status: what each status still lacks."""
    return sum(max(0, count - now.get(status, 0)) for status, count in target.items())


def wait_until_settled(
    probe: StatusProbe,
    target: dict[str, int],
    *,
    expected: int,
    on_progress: Callable[[int], None],
    budget_s: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Returns once the orders are in the statuses of ``target`` (what was there before plus
    where each generated order ends), not merely stored: the history's status changes travel
    the history lane behind the orders themselves. Raises DeliveryError when ``budget_s`` is
    spent or nothing settles for STALL_LIMIT_S."""
    started = clock()
    best, best_at = expected + 1, started
    while True:
        try:
            left = unsettled(target, probe.by_status())
        except (httpx.HTTPError, ApiError):
            left = best
        on_progress(expected - min(left, expected))
        if left == 0:
            return
        now = clock()
        if left < best:
            best, best_at = left, now
        if now - started > budget_s or now - best_at > STALL_LIMIT_S:
            raise DeliveryError(
                f"{left:,} of {expected:,} orders are not in their final status after "
                f"{format_duration(now - started)}; see .run/logs/ingest.log and orders.log",
                arrived=expected - left,
                seconds=now - started,
            )
        sleep(POLL_INTERVAL_S)


def deliver_settled(
    hub: OrderHub, batches: list[Batch], rng: random.Random, *, label: str, placed_until: datetime
) -> tuple[Fill, float]:
    """``deliver``, then the wait until every generated order is in its final status; returns
    the fill and the seconds from the first create call until all had settled."""
    probe = PlacedUntil(hub, placed_until)
    before = probe.by_status()
    finals: Counter[str] = Counter()
    started = time.monotonic()
    fill = deliver(hub, batches, rng, label=label, finals=finals)
    target = {s: before.get(s, 0) + finals.get(s, 0) for s in set(before) | set(finals)}
    print(f"{label}: waiting for every status to settle", flush=True)
    bar = ProgressBar(fill.orders)
    try:
        wait_until_settled(
            probe,
            target,
            expected=fill.orders,
            on_progress=bar.update,
            budget_s=wait_budget_s(fill.orders),
        )
    finally:
        bar.finish()
    return fill, round(time.monotonic() - started, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.demo_data", description=__doc__)
    parser.add_argument("--count", type=int, default=10_000, help="orders to create (N)")
    parser.add_argument("--days", type=int, default=HISTORY_DAYS, help="days of history")
    args = parser.parse_args(argv)
    if args.count < 1 or args.days < 1:
        parser.error("--count and --days must be at least 1")

    stack = local_stack()
    hub = OrderHub(
        gateway_url=stack.gateway_url, channels_url=stack.channels_url, credentials=stack.admin
    )
    try:
        hub.ensure_up()
        now = datetime.now(UTC)
        batches = history_plan(args.count, now, args.days)
        fill, settled_s = deliver_settled(
            hub,
            batches,
            random.Random(),  # noqa: S311
            label="demo data",
            placed_until=now,
        )
    except (StackNotUpError, DeliveryError, ApiError) as exc:
        print(f"demo-data failed: {exc}", file=sys.stderr)
        return 1
    except httpx.HTTPError as exc:
        print(f"demo-data failed: the stack stopped answering ({exc!r})", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("demo-data interrupted", file=sys.stderr)
        return 130
    finally:
        hub.close()
    print(
        f"demo data: {fill.orders:,} orders stored in {format_duration(fill.seconds)} "
        f"({fill.rate:,.1f} orders/s); every one in its final status after "
        f"{format_duration(settled_s)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
