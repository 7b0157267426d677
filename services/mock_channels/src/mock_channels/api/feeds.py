"""Blinkit's order feed in its platform's own shape, subject to faults (the website's orders are
Shopify's GraphQL ``orders`` query: ``mock_channels.shopify``; Amazon's Selling Partner API is
``api/amazon.py``)."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Annotated, Any

from fastapi import APIRouter, Query

from mock_channels.deps import ChannelStoreDep
from mock_channels.formats import FORMATS
from mock_channels.models import MockOrder
from mock_channels.page_tokens import decode_page_token, encode_page_token
from mock_channels.store import ChannelStore, FeedOrder, FeedPage
from orderhub_common.errors import DomainError, ServiceUnavailableError
from orderhub_common.events import Channel

router = APIRouter(tags=["channel feeds"])

_fault_dice = random.Random()  # noqa: S311 - picks which simulated requests fail


class ChannelFailureError(DomainError):
    status_code = HTTPStatus.INTERNAL_SERVER_ERROR
    code = "internal_error"


async def apply_faults(store: ChannelStore, channel: Channel) -> None:
    faults = store.faults(channel)
    if faults.latency_ms:
        await asyncio.sleep(faults.latency_ms / 1000)
    if faults.down:
        raise ServiceUnavailableError(f"{channel} is down")
    if faults.error_rate and _fault_dice.random() < faults.error_rate:
        if _fault_dice.random() < 0.5:
            raise ChannelFailureError(f"{channel} failed to answer")
        raise ServiceUnavailableError(f"{channel} is overloaded, try again")


def read_orders(
    store: ChannelStore,
    channel: Channel,
    *,
    since: datetime | None,
    token: str | None,
    limit: int,
    by: FeedOrder = FeedOrder.UPDATED,
) -> tuple[list[MockOrder], str | None]:
    """One page of orders in feed order (``by``, or the token's), and the token of the next
    (None: the last page)."""
    after = None
    if token:
        since, after = decode_page_token(token)
        by = after.by
    page: FeedPage = store.page(channel, since=since, after=after, limit=limit, by=by)
    next_token = None
    if page.next_position is not None:
        next_token = encode_page_token(since, page.next_position)
    return page.orders, next_token


@router.get("/blinkit/v1/orders", summary="Blinkit orders feed")
async def blinkit_orders(
    store: ChannelStoreDep,
    updated_since_ms: Annotated[int | None, Query(ge=0)] = None,
    created_since_ms: Annotated[int | None, Query(ge=0)] = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
) -> dict[str, Any]:
    """Orders by ``updated_at_ms`` ascending (every change), or with ``created_since_ms`` by
    ``created_at_ms`` ascending (each order once), paged with ``next_cursor``."""
    await apply_faults(store, Channel.BLINKIT)
    if updated_since_ms is not None and created_since_ms is not None:
        raise DomainError("give updated_since_ms or created_since_ms, not both")
    by, since_ms = FeedOrder.UPDATED, updated_since_ms or 0
    if created_since_ms is not None:
        by, since_ms = FeedOrder.PLACED, created_since_ms
    orders, next_cursor = read_orders(
        store,
        Channel.BLINKIT,
        since=datetime.fromtimestamp(since_ms / 1000, UTC),
        token=cursor,
        limit=limit,
        by=by,
    )
    render = FORMATS[Channel.BLINKIT].render
    return {
        "orders": [render(order) for order in orders],
        "next_cursor": next_cursor,
        "has_more": next_cursor is not None,
    }
