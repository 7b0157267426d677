"""One poller per channel: read the feed since the cursor, normalize, publish, advance.

Order of work on every page: publish its events and wait for Kafka's acknowledgement, then save
the cursor. A crash between the two re-reads at most that page (at least once; orders dedupes).
Feed reads go through retries (exponential backoff with jitter) inside a circuit breaker, so a
failing channel is asked less and less, and only its own poller is slowed down.

The feed lists every change, oldest first, so while it has a backlog (a history import, a burst of
status changes, a first connection's backfill) a new order stands at its end. Between the pages
of a pass more than ``new_orders_behind`` behind the channel, at most every ``new_orders_every``,
the poller also reads the orders placed since it last looked, by placement: a new order is
published within about that time, not after the backlog. The pass publishes each of those again
only if it changed meanwhile.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from circuitbreaker import CircuitBreaker, CircuitBreakerError
from loguru import logger

from ingest import metrics
from ingest.connectors import ChannelConnector, ChannelFeedError, ListedBy, NativePage
from ingest.cursor import FeedCursor, PlacementCursor, fingerprint
from ingest.events import IngestedPublisher
from ingest.lease import ChannelLease
from ingest.normalizers import NORMALIZERS, NormalizationError
from ingest.repository import ChannelRepository
from orderhub_common.circuits import CircuitGauges, CircuitState
from orderhub_common.context import correlation_id_var, new_id
from orderhub_common.events import Channel, ChannelOrder
from orderhub_common.guarded_calls import Retries, call_guarded
from orderhub_common.logging import utc_now
from orderhub_common.workers import run_rounds


@dataclass(frozen=True)
class PollSettings:
    interval_s: float
    page_size: int
    retry_attempts: int
    retry_initial_s: float
    retry_max_s: float
    settle_grace: timedelta
    # How far back the first connection reads (None: everything the channel holds).
    backfill: timedelta | None = None
    # While the feed has a backlog, how often to look for new orders (None: never), and how far
    # back a look may start (older orders are history, never in a hurry).
    new_orders_every: timedelta | None = timedelta(seconds=1)
    # A pass closer to the channel than this finds its new orders itself, as soon.
    new_orders_behind: timedelta = timedelta(seconds=5)
    new_orders_lookback: timedelta = timedelta(hours=1)


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, ChannelFeedError) and exc.retryable


class ChannelPoller:
    def __init__(
        self,
        feed: ChannelConnector,
        *,
        repository: ChannelRepository,
        lease: ChannelLease,
        publisher: IngestedPublisher,
        breaker: CircuitBreaker,
        settings: PollSettings,
        paused_by_config: bool = False,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.channel: Channel = feed.channel
        self.feed = feed
        self.repository = repository
        self.lease = lease
        self.publisher = publisher
        self.breaker = breaker
        self.settings = settings
        self.paused_by_config = paused_by_config
        self.clock = clock
        self.normalize = NORMALIZERS[self.channel]
        self._fallback_served = False
        self._backfilling = True  # until the repository says the history import is over
        # The look for new orders: where it stands, when it last looked (monotonic), and what it
        # published (externalId -> fingerprint) that the pass has not reached yet.
        self._new_orders: PlacementCursor | None = None
        self._looked_at = float("-inf")
        self._published_new: dict[str, str] = {}
        self._circuit_gauges = CircuitGauges(
            self.channel, metrics.CIRCUIT_STATE, metrics.CIRCUIT_OPENED
        )

    @property
    def circuit(self) -> CircuitState:
        return CircuitState(self.breaker.state)

    async def run(self) -> None:
        """The worker loop: poll while holding the lease and not paused, until cancelled."""
        logger.info(f"poller {self.channel} started (lease owner {self.lease.owner})")
        try:
            await self.export_known_state()
            # Redis or Kafka trouble: nothing was acknowledged, the next poll retries.
            await run_rounds(
                self._round,
                name=f"poller {self.channel}",
                interval_s=self.settings.interval_s,
                on_error=lambda exc: logger.opt(exception=exc).error(
                    f"poll of {self.channel} failed"
                ),
            )
        finally:
            await self._let_go()

    async def _round(self) -> bool:
        if not await self.paused() and await self.lease.take_or_renew():
            await self.poll()
        return False  # a poll reads the feed to its last page

    async def export_known_state(self) -> None:
        """The channel's series from the start: its counters at 0 (so the first failure after a
        restart is an increase an alert sees) and its last success as the replicas recorded it
        (so a channel that stalls across restarts still looks stalled)."""
        for counter in metrics.CHANNEL_COUNTERS:
            counter.labels(self.channel)
        try:
            last_success = await self.repository.last_success_at(self.channel)
        except Exception as exc:
            logger.warning(f"{self.channel}'s last success not read at start: {exc!r}")
            return
        if last_success is not None:
            metrics.LAST_SUCCESS.labels(self.channel).set(last_success.timestamp())

    async def paused(self) -> bool:
        """Paused ingestion reads nothing; its cursor waits where it stands."""
        paused = await self.repository.is_paused(self.channel, by_config=self.paused_by_config)
        metrics.PAUSED.labels(self.channel).set(1 if paused else 0)
        return paused

    async def poll(self) -> int:
        """Reads the feed until it has no next page; returns how many orders were published."""
        cursor = await self.repository.load_cursor(self.channel)
        since = cursor.since
        if since is None and cursor.page_token is None:
            since = await self._start_backfill()
        published = 0
        while True:
            correlation_id_var.set(new_id())
            read_at = self.clock()
            try:
                page = await self._read(cursor, since)
            except (ChannelFeedError, CircuitBreakerError) as exc:
                await self._on_failure(exc, cursor)
                return published
            orders = self._normalize(page)
            news = [o for o in orders if cursor.is_news(o) and not self._published_as_new(o)]
            await self.publisher.publish(news)
            cursor = cursor.advanced(orders, page.next_token).settled(
                read_at=read_at, resolution=self.feed.resolution, grace=self.settings.settle_grace
            )
            if not await self.repository.save_cursor(self.channel, cursor, self.lease):
                logger.warning(f"poller {self.channel} lost its lease; another replica polls")
                return published
            published += len(news)
            self._export_behind(orders, more=page.next_token is not None)
            await self._on_success(orders, len(news))
            since = cursor.since or since
            if self._backfilling and since is not None:
                self._backfilling = await self.repository.record_backfill(
                    self.channel, since, done=page.next_token is None
                )
            if page.next_token is None:
                # The pass read every change up to now, those the look published included.
                self._new_orders, self._published_new = None, {}
                return published
            if not await self.lease.take_or_renew():
                return published
            published += await self._look_for_new_orders(cursor)

    def _published_as_new(self, order: ChannelOrder) -> bool:
        """True when the look for new orders already published ``order`` as it is now (the
        pass has reached it, so the look forgets it either way)."""
        published = self._published_new.pop(order.external_id, None)
        return published is not None and published == fingerprint(order)

    async def _look_for_new_orders(self, passed: FeedCursor) -> int:
        """The orders placed since the last look (at first: since the pass's position, no
        further back than the lookback), every page of them; returns how many were published.
        A failed look is left to the next one: the pass reads these orders anyway."""
        every = self.settings.new_orders_every
        now = time.monotonic()
        if every is None or now - self._looked_at < every.total_seconds():
            return 0
        if (
            passed.since is not None
            and self.clock() - passed.since < self.settings.new_orders_behind
        ):
            return 0
        self._looked_at = now
        cursor = self._new_orders
        if cursor is None:
            # An order placed after the pass's position changed after it too: not read yet
            # (those at the position itself are told apart by their fingerprints).
            cursor = PlacementCursor(
                since=passed.since, published_at_since=passed.published_at_since
            )
        lookback = self.clock() - self.settings.new_orders_lookback
        if cursor.since is None or cursor.since < lookback:
            cursor = PlacementCursor(since=lookback)
        published = 0
        while True:
            read_at = self.clock()
            try:
                page = await self._read(cursor, by=ListedBy.PLACEMENT, attempts=1)
            except (ChannelFeedError, CircuitBreakerError) as exc:
                logger.info(f"the look for new {self.channel} orders failed: {exc}")
                return published
            orders = self._normalize(page)
            news = [order for order in orders if cursor.is_news(order)]
            await self.publisher.publish(news)
            self._published_new.update((o.external_id, fingerprint(o)) for o in news)
            published += len(news)
            metrics.NEW_ORDERS_FOUND.labels(self.channel).inc(len(news))
            await self._on_success(orders, len(news), keep_page=False)
            cursor = cursor.advanced(orders, page.next_token).settled(
                read_at=read_at, resolution=self.feed.resolution, grace=self.settings.settle_grace
            )
            self._new_orders = cursor
            if page.next_token is None:
                return published

    async def _start_backfill(self) -> datetime | None:
        """The first connection: read the configured days of history, oldest change first,
        at the channel's own pace; the Channels page shows how far it got."""
        if self.settings.backfill is None:
            return None
        until = self.clock()
        since = until - self.settings.backfill
        await self.repository.start_backfill(self.channel, since, until)
        self._backfilling = True
        return since

    async def _read(
        self,
        cursor: FeedCursor,
        since: datetime | None = None,
        *,
        by: ListedBy = ListedBy.CHANGE,
        attempts: int | None = None,
    ) -> NativePage:
        since = since or cursor.since
        retries = Retries(
            attempts or self.settings.retry_attempts,
            self.settings.retry_initial_s,
            self.settings.retry_max_s,
        )
        return await call_guarded(
            self.breaker,
            retries,
            _retryable,
            lambda: self.feed.fetch(
                since=since, token=cursor.page_token, limit=self.settings.page_size, by=by
            ),
        )

    def _normalize(self, page: NativePage) -> list[ChannelOrder]:
        metrics.ORDERS_POLLED.labels(self.channel).inc(len(page.orders))
        orders = []
        for native in page.orders:
            try:
                orders.append(self.normalize(native))
            except NormalizationError as exc:
                metrics.NORMALIZATION_FAILURES.labels(self.channel).inc()
                logger.bind(channel=self.channel, externalId=exc.external_id).warning(
                    f"skipped a native order: {exc}"
                )
        return orders

    async def _on_success(
        self, orders: list[ChannelOrder], published: int, *, keep_page: bool = True
    ) -> None:
        """Records a good read and what it published (the Channels page counts both); with
        ``keep_page``, its orders are the last good page an outage republishes."""
        now = self.clock()
        self._fallback_served = False
        if orders and keep_page:
            await self.repository.cache_page(self.channel, orders)
        await self.repository.record_success(
            self.channel, circuit=self.circuit, published=published, at=now
        )
        metrics.ORDERS_PUBLISHED.labels(self.channel).inc(published)
        metrics.LAST_SUCCESS.labels(self.channel).set(now.timestamp())
        self._export_circuit()

    async def _on_failure(
        self, exc: ChannelFeedError | CircuitBreakerError, cursor: FeedCursor
    ) -> None:
        self._export_circuit()
        if isinstance(exc, CircuitBreakerError):
            # Not asked at all: the circuit is open. Only the state may have moved.
            await self.repository.record_circuit(self.channel, self.circuit)
            return
        metrics.POLL_FAILURES.labels(self.channel).inc()
        logger.bind(channel=self.channel, circuit=self.circuit.value).warning(f"poll failed: {exc}")
        await self.repository.record_failure(
            self.channel, circuit=self.circuit, error=str(exc), at=self.clock(), kind=exc.kind
        )
        if not exc.retryable and cursor.page_token:
            # A page token the channel rejects (expired, say) must not wedge the poller: the
            # next poll starts the pass again from the time position.
            restarted = cursor.model_copy(update={"page_token": None})
            await self.repository.save_cursor(self.channel, restarted, self.lease)
        await self._serve_fallback()

    async def _serve_fallback(self) -> None:
        """Once per outage, republishes the last good page (harmless: orders is idempotent)."""
        if self._fallback_served:
            return
        cached = await self.repository.cached_page(self.channel)
        if cached:
            await self.publisher.publish(cached)
            metrics.FALLBACK_PAGES.labels(self.channel).inc()
            logger.info(f"{self.channel} is failing: republished its last good page")
        self._fallback_served = True

    def _export_behind(self, orders: list[ChannelOrder], *, more: bool) -> None:
        behind = 0.0
        if more and orders:
            oldest = min(order.updated_at for order in orders)
            behind = max(0.0, (self.clock() - oldest).total_seconds())
        metrics.FEED_BEHIND.labels(self.channel).set(behind)

    def _export_circuit(self) -> None:
        self._circuit_gauges.export(self.circuit, self.clock().timestamp())

    async def _let_go(self) -> None:
        await self.feed.close()
        try:
            await self.lease.release()
        except Exception as exc:
            logger.warning(f"could not release the {self.channel} lease: {exc!r}")
