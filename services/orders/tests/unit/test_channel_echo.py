"""A channel's copy of an order it was told about by Order Hub (the echo of an admin's move,
sent back by the write-back) changes nothing: no write, no event, and the order's ``updatedAt``
stays. A newer copy that does differ is taken as before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from orderhub_common.events import ChannelOrder, OrderStatus
from orderhub_common.testing import channel_order
from orders.changes import admin_move, channel_change, new_order
from orders.repository import StoredOrder
from orders.state_machine import decide_channel_update

pytestmark = pytest.mark.unit

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def confirmed_by_an_admin() -> StoredOrder:
    placed = new_order(channel_order("WEB-7", updated_at=T0))
    stored = StoredOrder(placed.order, 1, placed.channel_updated_at)
    return admin_move(stored, OrderStatus.CONFIRMED, changed_by="u1", note=None).applied()


def change_from(stored: StoredOrder, copy: ChannelOrder) -> object:
    decision = decide_channel_update(stored.order.status, stored.channel_updated_at, copy)
    assert decision.changes_anything  # the copy is newer: before, it was always written
    return channel_change(stored, copy, decision)


def test_the_channels_echo_of_an_admins_move_changes_nothing() -> None:
    stored = confirmed_by_an_admin()
    echo = channel_order(
        "WEB-7", status=OrderStatus.CONFIRMED, updated_at=T0 + timedelta(minutes=5)
    )

    assert change_from(stored, echo) is None


def test_a_newer_copy_with_other_fields_is_still_taken() -> None:
    stored = confirmed_by_an_admin()
    copy = channel_order(
        "WEB-7",
        status=OrderStatus.CONFIRMED,
        updated_at=T0 + timedelta(minutes=5),
        customer={"name": "Asha Rao", "phone": "+919800000001", "email": "asha@example.com"},
    )

    change = change_from(stored, copy)

    assert change is not None
    assert change.result.customer.name == "Asha Rao"
    assert change.channel_updated_at == copy.updated_at


def test_a_newer_copy_that_moves_the_status_on_is_taken_with_its_event() -> None:
    stored = confirmed_by_an_admin()
    copy = channel_order("WEB-7", status=OrderStatus.SHIPPED, updated_at=T0 + timedelta(hours=1))

    change = change_from(stored, copy)

    assert change is not None
    assert change.result.status == OrderStatus.SHIPPED
    assert [event.event_type for event in change.events] == ["order.status_changed"]
