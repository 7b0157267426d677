"""Helpers the orders unit suite shares."""

from __future__ import annotations

from orderhub_common.events import Channel, OrderStatus, Shipment
from orders.repository import WriteBackRequest


def move_request(
    channel: Channel, external_id: str, status: OrderStatus, shipment: Shipment | None = None
) -> WriteBackRequest:
    """The write-back of an admin's move of the channel's order ``external_id`` to ``status``."""
    return WriteBackRequest(
        key=f"evt-{status}",
        order_id="ord_1",
        channel=channel.value,
        external_id=external_id,
        status=status,
        shipment=shipment,
    )
