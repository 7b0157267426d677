"""The control API of CONTRACT.md section 6: never affected by the injected faults."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response

from mock_channels.deps import ChannelStoreDep
from mock_channels.formats import FORMATS
from mock_channels.models import Faults
from mock_channels.schemas import FaultSettings, OrderCount, OrdersCreate, OrdersCreated, StatusMove
from orderhub_common.errors import NotFoundError
from orderhub_common.events import Channel

router = APIRouter(prefix="/_control", tags=["control"])


class ChannelNotFoundError(NotFoundError):
    code = "channel_not_found"


async def known_channel(channel: str) -> Channel:
    try:
        return Channel(channel)
    except ValueError:
        known = ", ".join(c.value for c in Channel)
        raise ChannelNotFoundError(f"no channel {channel!r}; channels are {known}") from None


ChannelDep = Annotated[Channel, Depends(known_channel)]


@router.post("/reset", status_code=204, response_class=Response)
async def reset(store: ChannelStoreDep) -> None:
    store.reset()


@router.post("/{channel}/orders")
async def create_orders(
    channel: ChannelDep, body: OrdersCreate, store: ChannelStoreDep
) -> OrdersCreated:
    created = store.create(channel, body.count, placed_between=body.placement_window)
    return OrdersCreated(created=[order.external_id for order in created])


@router.get("/{channel}/orders/count")
async def count_orders(channel: ChannelDep, store: ChannelStoreDep) -> OrderCount:
    return OrderCount(count=store.count(channel))


@router.get("/{channel}/orders/{external_id}")
async def native_order(
    channel: ChannelDep, external_id: str, store: ChannelStoreDep
) -> dict[str, Any]:
    return FORMATS[channel].render(store.get(channel, external_id))


@router.post("/{channel}/orders/{external_id}/status")
async def move_order(
    channel: ChannelDep, external_id: str, body: StatusMove, store: ChannelStoreDep
) -> dict[str, Any]:
    order = store.move(channel, external_id, body.status)
    return FORMATS[channel].render(order)


@router.get("/{channel}/orders/{external_id}/write-backs")
async def order_write_backs(
    channel: ChannelDep, external_id: str, store: ChannelStoreDep
) -> list[dict[str, Any]]:
    """The seller status updates that changed this order, each once whatever its repeats."""
    store.get(channel, external_id)
    return [
        {"idempotencyKey": a.key, "status": a.status.value}
        for a in store.applied_write_backs(channel, external_id)
    ]


@router.get("/{channel}/faults")
async def read_faults(channel: ChannelDep, store: ChannelStoreDep) -> FaultSettings:
    faults = store.faults(channel)
    return FaultSettings(
        down=faults.down, error_rate=faults.error_rate, latency_ms=faults.latency_ms
    )


@router.put("/{channel}/faults")
async def set_faults(
    channel: ChannelDep, body: FaultSettings, store: ChannelStoreDep
) -> FaultSettings:
    store.set_faults(
        channel, Faults(down=body.down, error_rate=body.error_rate, latency_ms=body.latency_ms)
    )
    return body
