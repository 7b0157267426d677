"""The website's write-back against the Shopify simulator: each move by its GraphQL mutation
(accepted), a move the shop refuses (its userErrors, as the rejection's reason), a repeated send
that finds the move made (acknowledged, no second mutation), a refused token (tried later)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from mock_channels.main import create_app
from mock_channels.settings import MockChannelsSettings
from mock_channels.store import ChannelStore
from orderhub_common.events import Channel, OrderStatus, Shipment
from orderhub_common.shopify import SIMULATOR_ADMIN_TOKEN, ShopifyAdminClient
from orders.repository import WriteBackRequest
from orders.write_back import ChannelRejectedError, ChannelWriteError, ChannelWriter

from .conftest import move_request

pytestmark = pytest.mark.unit


@pytest.fixture
def shop() -> FastAPI:
    return create_app(MockChannelsSettings(seed_orders=0, control_api=True))


def store_of(shop: FastAPI) -> ChannelStore:
    store: ChannelStore = shop.state.store
    return store


def writer(shop: FastAPI, token: str = SIMULATOR_ADMIN_TOKEN) -> ChannelWriter:
    transport = httpx.ASGITransport(app=shop)
    graphql = httpx.AsyncClient(transport=transport, base_url="http://shop/website")
    return ChannelWriter(
        httpx.AsyncClient(transport=transport, base_url="http://shop"),
        attempts=1,
        shopify=ShopifyAdminClient(graphql, api_version="2025-10", token=SecretStr(token)),
    )


@pytest.fixture
async def channel(shop: FastAPI) -> AsyncIterator[ChannelWriter]:
    sending = writer(shop)
    yield sending
    await sending.close()


def move(
    external_id: str, status: OrderStatus, shipment: Shipment | None = None
) -> WriteBackRequest:
    return move_request(Channel.WEBSITE, external_id, status, shipment)


async def test_each_move_is_made_by_its_mutation_and_the_shop_shows_it(
    shop: FastAPI, channel: ChannelWriter
) -> None:
    [order] = store_of(shop).create(Channel.WEBSITE, 1)
    shipment = Shipment(carrier="Blue Dart", tracking_number="BD123")

    for status in (OrderStatus.CONFIRMED, OrderStatus.SHIPPED, OrderStatus.DELIVERED):
        await channel.send(move(order.external_id, status, shipment))
        assert store_of(shop).get(Channel.WEBSITE, order.external_id).status == status

    shown = store_of(shop).get(Channel.WEBSITE, order.external_id)
    assert shown.shipment is not None
    assert (shown.shipment.carrier, shown.shipment.tracking_number) == ("Blue Dart", "BD123")
    await channel.send(move(order.external_id, OrderStatus.RETURNED))
    assert store_of(shop).get(Channel.WEBSITE, order.external_id).status == OrderStatus.RETURNED


async def test_a_cancellation_is_order_cancel(shop: FastAPI, channel: ChannelWriter) -> None:
    [order] = store_of(shop).create(Channel.WEBSITE, 1)
    await channel.send(move(order.external_id, OrderStatus.CANCELLED))
    assert store_of(shop).get(Channel.WEBSITE, order.external_id).status == OrderStatus.CANCELLED


async def test_a_repeated_send_finds_the_move_made_and_mutates_nothing(
    shop: FastAPI, channel: ChannelWriter
) -> None:
    [order] = store_of(shop).create(Channel.WEBSITE, 1)

    for _ in range(3):
        await channel.send(move(order.external_id, OrderStatus.CONFIRMED))

    applied = store_of(shop).applied_write_backs(Channel.WEBSITE, order.external_id)
    assert [a.status for a in applied] == [OrderStatus.CONFIRMED]


async def test_a_move_the_shop_refuses_is_rejected_with_its_reason(
    shop: FastAPI, channel: ChannelWriter
) -> None:
    [order] = store_of(shop).create(Channel.WEBSITE, 1)
    store_of(shop).move(Channel.WEBSITE, order.external_id, OrderStatus.CONFIRMED)
    store_of(shop).move(Channel.WEBSITE, order.external_id, OrderStatus.SHIPPED)

    with pytest.raises(ChannelRejectedError, match="Shopify: the order is shipped; it cannot"):
        await channel.send(move(order.external_id, OrderStatus.CANCELLED))
    with pytest.raises(ChannelRejectedError, match="no order 42"):
        await channel.send(move("42", OrderStatus.CONFIRMED))
    assert store_of(shop).get(Channel.WEBSITE, order.external_id).status == OrderStatus.SHIPPED


async def test_a_refused_token_is_tried_again_later_not_rejected(shop: FastAPI) -> None:
    [order] = store_of(shop).create(Channel.WEBSITE, 1)
    revoked = writer(shop, token="shpat_revoked")

    with pytest.raises(ChannelWriteError, match="access token"):
        await revoked.send(move(order.external_id, OrderStatus.CONFIRMED))
    await revoked.close()
    assert store_of(shop).get(Channel.WEBSITE, order.external_id).status == OrderStatus.PLACED
