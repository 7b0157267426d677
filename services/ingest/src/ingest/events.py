"""What ingest publishes: the ingested orders, keyed ``{channel}:{externalId}``, each on one of
two lanes. ``orders.ingested.v1`` is the live lane: new orders and fresh changes. The history
lane, ``orders.ingested.history.v1``, carries the rest (a backfill of old orders, a channel's
year of history on first connection), which orders consumes only while the live lane has
nothing waiting, so a new order is never queued behind a backfill."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from faststream.kafka import KafkaBroker

from ingest import metrics
from orderhub_common.events import ChannelOrder, OrderIngested, ingested_key
from orderhub_common.kafka import Lane, Topics
from orderhub_common.logging import utc_now


def lane_of(order: ChannelOrder, now: datetime, live_window: timedelta) -> Lane:
    """Live when both the order's placement and its latest change at the channel are within
    ``live_window``: a new order, or a change to an order placed moments ago. Anything older
    is history, so a backfill (old orders, however recently the channel touched them) never
    stands in front of a new order. The cost: a change to an old order waits behind a running
    backfill (never otherwise: the history lane is consumed whenever the live one is idle)."""
    oldest = min(order.placed_at, order.updated_at)
    return Lane.LIVE if now - oldest <= live_window else Lane.HISTORY


class IngestedPublisher:
    def __init__(
        self,
        broker: KafkaBroker,
        topics: Topics,
        *,
        live_window: timedelta = timedelta(hours=1),
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._live_window = live_window
        self._clock = clock
        # Declared on the broker so they also document the topics in the AsyncAPI document.
        self._publishers = {
            Lane.LIVE: broker.publisher(
                topics.of_lane(Lane.LIVE),
                title="orders.ingested.v1",
                description=(
                    "The live lane: a new order or a fresh change seen at a channel, normalized. "
                    "Key: `{channel}:{externalId}`; delivery at least once, consumers are "
                    "idempotent."
                ),
                schema=OrderIngested,
            ),
            Lane.HISTORY: broker.publisher(
                topics.of_lane(Lane.HISTORY),
                title="orders.ingested.history.v1",
                description=(
                    "The history lane: an order placed, or changed, before ingest's live window "
                    "(a backfill), as on orders.ingested.v1; consumed while the live lane waits "
                    "for nothing."
                ),
                schema=OrderIngested,
            ),
        }

    async def publish(self, orders: Sequence[ChannelOrder]) -> None:
        """Returns once Kafka acknowledged every one of ``orders``, raises if any failed."""
        now = self._clock()
        pending = []
        for order in orders:
            lane = lane_of(order, now, self._live_window)
            pending.append(
                await self._publishers[lane].publish(
                    OrderIngested(order=order),
                    key=ingested_key(order.channel, order.external_id),
                    no_confirm=True,
                )
            )
            metrics.LANE_PUBLISHED.labels(lane.value).inc()
        await asyncio.gather(*pending)
