"""Shopify's order webhooks (``orders/create``, ``orders/updated``, ``orders/cancelled``): checked,
deduplicated, normalized and published like a polled order.

- Checked: ``X-Shopify-Hmac-Sha256`` is the HMAC-SHA256 of the raw body with the app's secret
  (SHOPIFY_WEBHOOK_SECRET), compared in constant time; anything else is 401, before the body is
  even parsed.
- Deduplicated: Shopify delivers at least once and retries with the same ``X-Shopify-Webhook-Id``;
  the id is claimed in Redis (``SET NX EX``) for SHOPIFY_WEBHOOK_DEDUP_TTL_S, and a delivery whose
  id is claimed is answered 200 and published no more. A delivery that fails to publish gives its
  claim back, so Shopify's retry is processed.
- Reconciled: webhooks are a shortcut, not the record. The poll reads every order changed since
  its cursor whatever arrived by webhook, so a webhook that never came is found by the next poll,
  and one that came is published again by it (orders applies a copy it already holds once).
- A paused channel publishes nothing by webhook either; its poll catches up on resume.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from loguru import logger
from pydantic import SecretStr
from redis.asyncio import Redis

from ingest import metrics
from ingest.events import IngestedPublisher
from ingest.normalizers import NormalizationError
from ingest.normalizers.shopify import normalize
from ingest.repository import ChannelRepository
from orderhub_common.context import correlated, current_correlation_id
from orderhub_common.errors import DomainError, UnauthorizedError
from orderhub_common.events import Channel
from orderhub_common.shopify import signature_matches

ORDER_TOPICS = frozenset({"orders/create", "orders/updated", "orders/cancelled"})


class InvalidWebhookSignatureError(UnauthorizedError):
    code = "invalid_signature"


class InvalidWebhookError(DomainError):
    code = "invalid_webhook"


class UnreadableWebhookOrderError(DomainError):
    status_code = 422
    code = "unreadable_order"


@dataclass(frozen=True)
class WebhookOutcome:
    published: bool
    reason: str  # "published", "duplicate", "paused", "ignored topic"


class ShopifyWebhooks:
    def __init__(
        self,
        *,
        secret: SecretStr | None,
        redis: Redis,
        key_prefix: str,
        dedup_ttl_s: int,
        repository: ChannelRepository,
        publisher: IngestedPublisher,
        paused_by_config: bool,
    ) -> None:
        self._secret = secret
        self._redis = redis
        self._key_prefix = key_prefix
        self._ttl_s = dedup_ttl_s
        self._repository = repository
        self._publisher = publisher
        self._paused_by_config = paused_by_config

    async def receive(
        self, body: bytes, *, signature: str | None, webhook_id: str | None, topic: str | None
    ) -> WebhookOutcome:
        # No secret configured: nothing can be verified, so nothing is accepted.
        secret = self._secret.get_secret_value().encode() if self._secret else None
        if secret is None or not signature_matches(secret, body, signature):
            metrics.WEBHOOKS.labels("invalid_signature").inc()
            raise InvalidWebhookSignatureError("the webhook's X-Shopify-Hmac-Sha256 does not match")
        if not webhook_id or len(webhook_id) > 200:
            raise InvalidWebhookError("X-Shopify-Webhook-Id is required")
        if topic not in ORDER_TOPICS:
            metrics.WEBHOOKS.labels("ignored").inc()
            return WebhookOutcome(False, "ignored topic")
        try:
            native = json.loads(body)
        except ValueError as exc:
            raise InvalidWebhookError("the webhook's body is not JSON") from exc
        try:
            order = normalize(native)
        except NormalizationError as exc:
            metrics.NORMALIZATION_FAILURES.labels(Channel.WEBSITE).inc()
            raise UnreadableWebhookOrderError(str(exc)) from exc
        if await self._repository.is_paused(Channel.WEBSITE, by_config=self._paused_by_config):
            metrics.WEBHOOKS.labels("paused").inc()
            return WebhookOutcome(False, "paused")
        key = f"{self._key_prefix}:shopify-webhook:{webhook_id}"
        if not await self._redis.set(key, "1", nx=True, ex=self._ttl_s):
            metrics.WEBHOOKS.labels("duplicate").inc()
            return WebhookOutcome(False, "duplicate")
        try:
            # The request's correlation id (the edge's request id), on the event and its header.
            with correlated(current_correlation_id()):
                await self._publisher.publish([order])
        except BaseException:
            await self._redis.delete(key)  # Shopify retries the delivery: let it through
            raise
        metrics.WEBHOOKS.labels("published").inc()
        metrics.ORDERS_PUBLISHED.labels(Channel.WEBSITE).inc()
        logger.bind(channel=Channel.WEBSITE, externalId=order.external_id).info(
            f"webhook {topic} published"
        )
        return WebhookOutcome(True, "published")
