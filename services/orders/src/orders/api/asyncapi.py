"""``/asyncapi``: the AsyncAPI 3 document of the topics orders consumes and publishes.

FastStream generates it from a broker's subscribers and publishers. The runtime subscriber takes
raw bytes (so malformed events reach our dead-letter path instead of failing in the framework)
and would document its payload as bytes; so the document is generated from a describing broker
that is never connected, declaring each topic with the schema of ``orderhub_common.events``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI

from orderhub_common.events import (
    OrderCreated,
    OrderIngested,
    OrderNoteAdded,
    OrderStatusChanged,
    OrderTagsChanged,
    OrderWriteBackAnswered,
)
from orderhub_common.kafka import Topics
from orders.consumers import GROUP_ID


async def _records_channel_order(event: OrderIngested) -> None:
    """An order seen at a channel, normalized by ingest: upserted by (channel, externalId)."""


def asyncapi_document(topics: Topics, bootstrap_servers: str) -> dict[str, Any]:
    broker = KafkaBroker(bootstrap_servers, description="Order Hub's Kafka cluster")
    broker.subscriber(
        topics.ingested,
        group_id=GROUP_ID,
        title="orders.ingested.v1",
        description="Keyed `{channel}:{externalId}`. Consumed by the `orders` group.",
    )(_records_channel_order)
    broker.publisher(
        topics.order_events,
        title="orders.events.v1",
        description=(
            "Public order events keyed by order id: `order.created` when an order enters "
            "Order Hub, `order.status_changed` for every status move, `order.note_added`, "
            "`order.tags_changed`, and `order.write_back_answered` when the channel "
            "acknowledged or rejected a status move sent to it. At least once; deduplicate "
            "by `eventId`; ignore types you do not know."
        ),
        schema=OrderCreated
        | OrderStatusChanged
        | OrderNoteAdded
        | OrderTagsChanged
        | OrderWriteBackAnswered,
    )
    broker.publisher(
        topics.ingested_dlq,
        title="orders.ingested.v1.dlq",
        description=(
            "Ingested events that could not be processed, byte for byte as consumed, with "
            "the consumed key and headers plus `x-error`, `x-error-type`, "
            "`x-original-topic`, `x-original-partition`, `x-original-offset`."
        ),
        schema=OrderIngested,
    )
    specification = AsyncAPI(
        broker,
        title="Order Hub orders",
        version="1.0.0",
        description="Events the orders service consumes and publishes (CONTRACT.md section 5).",
    ).to_specification()
    document: dict[str, Any] = specification.to_jsonable()
    return document


def asyncapi_router(topics: Topics, bootstrap_servers: str) -> APIRouter:
    router = APIRouter(tags=["documentation"])
    document = asyncapi_document(topics, bootstrap_servers)

    @router.get("/asyncapi", summary="AsyncAPI document of the orders topics")
    async def asyncapi() -> dict[str, Any]:
        return document

    return router
