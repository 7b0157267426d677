"""What ingest publishes: ``orders.ingested.v1``, keyed ``{channel}:{externalId}``."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from faststream.kafka import KafkaBroker

from orderhub_common.events import ChannelOrder, OrderIngested, ingested_key
from orderhub_common.kafka import Topics


class IngestedPublisher:
    def __init__(self, broker: KafkaBroker, topics: Topics) -> None:
        # Declared on the broker so it also documents the topic in the AsyncAPI document.
        self._publisher = broker.publisher(
            topics.ingested,
            title="orders.ingested.v1",
            description=(
                "An order seen at a channel, normalized (new or changed). Key: "
                "`{channel}:{externalId}`; delivery at least once, consumers are idempotent."
            ),
            schema=OrderIngested,
        )

    async def publish(self, orders: Sequence[ChannelOrder]) -> None:
        """Returns once Kafka acknowledged every one of ``orders``, raises if any failed."""
        pending = [
            await self._publisher.publish(
                OrderIngested(order=order),
                key=ingested_key(order.channel, order.external_id),
                no_confirm=True,
            )
            for order in orders
        ]
        await asyncio.gather(*pending)
