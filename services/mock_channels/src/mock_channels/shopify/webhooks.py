"""The shop's webhooks: ``orders/create``, ``orders/updated`` and ``orders/cancelled``, sent to
the subscribed address (MOCK_SHOPIFY_WEBHOOK_URL) as Shopify sends them: the REST order JSON as
body, signed with the app's secret (``X-Shopify-Hmac-Sha256``), a ``X-Shopify-Webhook-Id`` that
stays the same across retries of one delivery, and ``X-Shopify-Topic``.

Delivery is at least once and may come late: a failed delivery is tried a few times, then
dropped (Shopify gives up after its retries too; the poll reconciles). ``lose_next`` drops the
next deliveries without sending them, so a test can show a missed webhook is found by the poll.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from loguru import logger

from mock_channels.formats import website
from mock_channels.models import MockOrder
from orderhub_common.events import Channel, OrderStatus
from orderhub_common.shopify import (
    HMAC_HEADER,
    SHOP_DOMAIN_HEADER,
    TOPIC_HEADER,
    WEBHOOK_ID_HEADER,
    webhook_signature,
)

SHOP_DOMAIN = "orderhub-simulator.myshopify.com"
_ATTEMPTS = 3
_RETRY_S = 0.5
_QUEUE_LIMIT = 10_000


@dataclass(frozen=True)
class Delivery:
    topic: str
    webhook_id: str
    body: bytes

    def headers(self, secret: bytes) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            HMAC_HEADER: webhook_signature(secret, self.body),
            WEBHOOK_ID_HEADER: self.webhook_id,
            TOPIC_HEADER: self.topic,
            SHOP_DOMAIN_HEADER: SHOP_DOMAIN,
        }


def deliveries(order: MockOrder, *, created: bool) -> list[Delivery]:
    """What a change of ``order`` sends: create, or updated (and cancelled when it was)."""
    body = json.dumps(website.render(order)).encode()
    topics = ["orders/create"] if created else ["orders/updated"]
    if not created and order.status == OrderStatus.CANCELLED:
        topics.append("orders/cancelled")
    return [Delivery(topic, str(uuid.uuid4()), body) for topic in topics]


class WebhookSender:
    def __init__(
        self,
        url: str | None,
        secret: bytes,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = url
        self.secret = secret
        self.lose_next = 0
        self.sent: list[Delivery] = []  # delivered (any answer), for tests
        self._queue: asyncio.Queue[Delivery] = asyncio.Queue(_QUEUE_LIMIT)
        self._transport = transport

    def on_change(self, channel: Channel, order: MockOrder, created: bool) -> None:
        if channel != Channel.WEBSITE or not self.url:
            return
        for delivery in deliveries(order, created=created):
            if self.lose_next > 0:
                self.lose_next -= 1
                continue
            try:
                self._queue.put_nowait(delivery)
            except asyncio.QueueFull:
                logger.warning("webhook queue full: a delivery is dropped (the poll finds it)")

    async def run(self) -> None:
        async with httpx.AsyncClient(timeout=5.0, transport=self._transport) as client:
            while True:
                delivery = await self._queue.get()
                await self._deliver(client, delivery)

    async def _deliver(self, client: httpx.AsyncClient, delivery: Delivery) -> None:
        assert self.url is not None
        for attempt in range(_ATTEMPTS):
            try:
                response = await client.post(
                    self.url, content=delivery.body, headers=delivery.headers(self.secret)
                )
            except httpx.HTTPError as exc:
                logger.warning(f"webhook {delivery.topic} not delivered: {exc!r}")
            else:
                self.sent.append(delivery)
                if response.is_success:
                    return
                logger.warning(f"webhook {delivery.topic} answered {response.status_code}")
                if response.status_code < 500:
                    return  # refused (a bad signature): sending it again changes nothing
            await asyncio.sleep(_RETRY_S * (attempt + 1))

    def status(self) -> dict[str, Any]:
        return {"url": self.url, "queued": self._queue.qsize(), "sent": len(self.sent)}
