"""``POST /webhooks/shopify``: Shopify's order webhooks. No JWT (Shopify has none): the body's
HMAC signature is the credential, checked before anything else (connectors/shopify/webhooks.py).
Reached from the internet through the gateway's ``/api/webhooks/shopify`` (public route)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request

from ingest.connectors.shopify.webhooks import ShopifyWebhooks
from orderhub_common.shopify import HMAC_HEADER, TOPIC_HEADER, WEBHOOK_ID_HEADER

router = APIRouter(tags=["webhooks"])


@router.post(
    "/webhooks/shopify",
    summary="Shopify order webhooks (orders/create, orders/updated, orders/cancelled)",
    responses={
        400: {"description": "no X-Shopify-Webhook-Id, or a body that is not JSON"},
        401: {"description": "the X-Shopify-Hmac-Sha256 signature does not match"},
    },
)
async def shopify_webhook(
    request: Request,
    signature: Annotated[str | None, Header(alias=HMAC_HEADER)] = None,
    webhook_id: Annotated[str | None, Header(alias=WEBHOOK_ID_HEADER)] = None,
    topic: Annotated[str | None, Header(alias=TOPIC_HEADER)] = None,
) -> dict[str, object]:
    webhooks: ShopifyWebhooks = request.app.state.shopify_webhooks
    outcome = await webhooks.receive(
        await request.body(), signature=signature, webhook_id=webhook_id, topic=topic
    )
    return {"published": outcome.published, "outcome": outcome.reason}
