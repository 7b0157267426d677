"""Canonical -> native (as the mock channels render it) -> canonical (as ingest normalizes it):
every channel, every status, the same order comes back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ingest.normalizers import NORMALIZERS
from mock_channels.formats import FORMATS
from mock_channels.shopify.resources import render_order
from mock_channels.store import ChannelStore
from orderhub_common.events import Channel, OrderStatus

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("status", list(OrderStatus))
@pytest.mark.parametrize("channel", list(Channel))
def test_every_status_survives_the_round_trip(channel: Channel, status: OrderStatus) -> None:
    store = ChannelStore(seed=5, seed_orders=0, clock=lambda: datetime(2026, 11, 1, tzinfo=UTC))
    [placed] = store.create(channel, 1)
    store.move(channel, placed.external_id, OrderStatus.CONFIRMED)
    mock_order = store.move(channel, placed.external_id, status)

    order = NORMALIZERS[channel](FORMATS[channel].render(mock_order))

    assert order.channel == channel
    assert order.external_id == mock_order.external_id
    assert order.status == status
    assert order.customer.name == mock_order.buyer.name
    assert order.customer.phone == f"+91{mock_order.buyer.phone}"
    assert order.total == mock_order.total_paise / 100
    assert [(i.sku, i.qty, i.price) for i in order.items] == [
        (i.sku, i.qty, i.unit_price_paise / 100) for i in mock_order.items
    ]
    assert order.currency == "INR"
    assert order.placed_at == mock_order.placed_at


@pytest.mark.parametrize("status", list(OrderStatus))
def test_the_websites_webhook_and_poll_renderings_normalize_to_one_order(
    status: OrderStatus,
) -> None:
    # Shopify's webhooks carry the REST order, its polls read the Admin GraphQL one: both name
    # the same order, in the same status, so a webhook and the poll that reconciles it agree.
    store = ChannelStore(seed=5, seed_orders=0, clock=lambda: datetime(2026, 11, 1, tzinfo=UTC))
    [placed] = store.create(Channel.WEBSITE, 1)
    store.move(Channel.WEBSITE, placed.external_id, OrderStatus.CONFIRMED)
    mock_order = store.move(Channel.WEBSITE, placed.external_id, status)
    normalize = NORMALIZERS[Channel.WEBSITE]

    from_webhook = normalize(FORMATS[Channel.WEBSITE].render(mock_order))
    from_poll = normalize(render_order(mock_order))

    assert from_poll == from_webhook
    assert from_poll.status == status
