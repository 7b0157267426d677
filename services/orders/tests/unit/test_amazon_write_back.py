"""Amazon's write-back through the Selling Partner API, against the in-process Amazon simulator:
accepted (updateShipmentStatus, confirmShipment), refused by Amazon, and refused because Amazon
has no seller operation for the move; each send signed in and paced."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from mock_channels.main import create_app
from mock_channels.settings import MockChannelsSettings
from orderhub_common.amazon_sp_api import AmazonSpApiSettings, SpApiClient
from orderhub_common.events import Channel, OrderStatus, Shipment
from orders.amazon_write_back import AmazonShipments
from orders.repository import WriteBackRequest
from orders.write_back import ChannelRejectedError, ChannelWriter

from .conftest import move_request

pytestmark = pytest.mark.unit


@pytest.fixture
async def channels() -> AsyncIterator[tuple[httpx.AsyncClient, ChannelWriter]]:
    app = create_app(MockChannelsSettings(seed_orders=0, control_api=True))
    transport = httpx.ASGITransport(app=app)
    connection = AmazonSpApiSettings().amazon_connection("http://channels")
    writer = ChannelWriter(
        httpx.AsyncClient(transport=transport, base_url="http://channels"),
        retry_initial_s=0.01,
        amazon=AmazonShipments(SpApiClient(connection, transport=transport)),
    )
    async with httpx.AsyncClient(transport=transport, base_url="http://channels") as control:
        yield control, writer
    await writer.close()


def move(
    external_id: str, status: OrderStatus, shipment: Shipment | None = None
) -> WriteBackRequest:
    return move_request(Channel.AMAZON, external_id, status, shipment)


async def native(control: httpx.AsyncClient, external_id: str) -> dict[str, object]:
    answer: dict[str, object] = (await control.get(f"/_control/amazon/orders/{external_id}")).json()
    return answer


async def test_moves_reach_amazon_through_its_own_operations(
    channels: tuple[httpx.AsyncClient, ChannelWriter],
) -> None:
    control, writer = channels
    [order] = (await control.post("/_control/amazon/orders", json={"count": 1})).json()["created"]

    for _ in range(2):  # a repeat (a timeout after Amazon applied it) is the same change
        await writer.send(move(order, OrderStatus.CONFIRMED))
    shown = await native(control, order)
    assert (shown["OrderStatus"], shown["EasyShipShipmentStatus"]) == ("Unshipped", "PendingPickUp")

    shipment = Shipment(carrier="Blue Dart", tracking_number="BD77")
    await writer.send(move(order, OrderStatus.SHIPPED, shipment))
    shown = await native(control, order)
    assert shown["OrderStatus"] == "Shipped"
    assert shown["EasyShipPackage"] == {"CarrierName": "Blue Dart", "TrackingId": "BD77"}
    applied = (await control.get(f"/_control/amazon/orders/{order}/write-backs")).json()
    assert [a["status"] for a in applied] == ["CONFIRMED", "SHIPPED"]
    assert (await control.get("/_control/amazon/sign-in")).json()["signIns"] == 1


async def test_amazon_refuses_a_move_its_order_cannot_make(
    channels: tuple[httpx.AsyncClient, ChannelWriter],
) -> None:
    control, writer = channels
    [order] = (await control.post("/_control/amazon/orders", json={"count": 1})).json()["created"]
    await control.post(f"/_control/amazon/orders/{order}/status", json={"status": "CANCELLED"})

    with pytest.raises(ChannelRejectedError, match="HTTP 400: the order is cancelled"):
        await writer.send(move(order, OrderStatus.CONFIRMED))
    assert (await native(control, order))["OrderStatus"] == "Canceled"


async def test_a_move_amazon_has_no_operation_for_is_refused_with_the_reason(
    channels: tuple[httpx.AsyncClient, ChannelWriter],
) -> None:
    control, writer = channels
    [order] = (await control.post("/_control/amazon/orders", json={"count": 1})).json()["created"]
    with pytest.raises(ChannelRejectedError, match="no seller operation for DELIVERED"):
        await writer.send(move(order, OrderStatus.DELIVERED))
    assert (await native(control, order))["OrderStatus"] == "Pending"
