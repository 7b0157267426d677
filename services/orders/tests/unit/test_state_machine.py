from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import product

import pytest

from orderhub_common.events import ChannelOrder, OrderStatus
from orderhub_common.testing import channel_order
from orders.changes import new_order, order_id_for
from orders.state_machine import (
    SkipReason,
    can_move,
    decide_channel_update,
    forward_path,
    refused_move_message,
)

pytestmark = pytest.mark.unit

P, C, S, D, X, R = (
    OrderStatus.PLACED,
    OrderStatus.CONFIRMED,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.CANCELLED,
    OrderStatus.RETURNED,
)
# CONTRACT.md section 4 (with the fulfilment issue's RETURNED), written out independently of
# the implementation's table.
CONTRACT_MOVES = {(P, C), (P, X), (C, S), (C, X), (S, D), (D, R)}
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("current", "target"), list(product(OrderStatus, OrderStatus)))
def test_exactly_the_contracts_moves_are_allowed(current: OrderStatus, target: OrderStatus) -> None:
    assert can_move(current, target) == ((current, target) in CONTRACT_MOVES)


@pytest.mark.parametrize(("current", "target"), list(product(OrderStatus, OrderStatus)))
def test_a_forward_path_is_made_of_allowed_moves_only(
    current: OrderStatus, target: OrderStatus
) -> None:
    path = forward_path(current, target)
    if path is None:
        return
    steps = list(zip([current, *path], path, strict=False))
    assert all(step in CONTRACT_MOVES for step in steps)
    assert (path[-1] if path else current) == target


@pytest.mark.parametrize(
    ("current", "target", "expected"),
    [
        (P, S, [C, S]),
        (P, D, [C, S, D]),
        (C, D, [S, D]),
        (P, X, [X]),
        (C, X, [X]),
        (P, P, []),
        (S, X, None),
        (D, X, None),
        (X, P, None),
        (D, P, None),
        (S, R, [D, R]),
        (R, D, None),
        (X, R, None),
        (S, C, None),
    ],
)
def test_forward_paths(
    current: OrderStatus, target: OrderStatus, expected: list[OrderStatus] | None
) -> None:
    assert forward_path(current, target) == expected


def channel_copy(status: OrderStatus, updated_at: datetime = T0) -> ChannelOrder:
    return channel_order(
        "402-1234567-1234567",
        channel="amazon",
        status=status,
        placed_at=T0 - timedelta(days=1),
        updated_at=updated_at,
    )


def test_a_channel_jump_applies_every_intermediate_move() -> None:
    decision = decide_channel_update(P, T0, channel_copy(D, T0 + timedelta(hours=1)))
    assert decision.status_moves == [C, S, D]
    assert decision.skipped is None


def test_the_same_copy_again_changes_nothing_and_counts_as_stale() -> None:
    decision = decide_channel_update(C, T0, channel_copy(C, T0))
    assert not decision.changes_anything
    assert decision.skipped is SkipReason.STALE


def test_a_backwards_status_is_ignored_as_stale_even_when_newer() -> None:
    decision = decide_channel_update(S, T0, channel_copy(C, T0 + timedelta(minutes=5)))
    assert decision.status_moves == []
    assert decision.skipped is SkipReason.STALE
    assert decision.refresh_fields  # the newer copy's other fields still count


def test_a_move_with_no_allowed_path_is_ignored_as_forbidden() -> None:
    decision = decide_channel_update(S, T0, channel_copy(X, T0 + timedelta(minutes=5)))
    assert decision.status_moves == []
    assert decision.skipped is SkipReason.FORBIDDEN


def test_an_older_copy_does_not_overwrite_fields() -> None:
    decision = decide_channel_update(P, T0, channel_copy(P, T0 - timedelta(minutes=5)))
    assert not decision.refresh_fields
    assert not decision.changes_anything


def test_a_same_status_newer_copy_refreshes_fields_without_a_status_move() -> None:
    decision = decide_channel_update(P, T0, channel_copy(P, T0 + timedelta(minutes=5)))
    assert decision.refresh_fields
    assert decision.status_moves == []
    assert decision.skipped is None


def test_order_ids_are_stable_and_distinct_per_channel() -> None:
    assert order_id_for("amazon", "A-1") == order_id_for("amazon", "A-1")
    assert order_id_for("amazon", "A-1") != order_id_for("website", "A-1")


def test_a_refused_move_says_who_put_the_order_where_it_is() -> None:
    order = new_order(channel_copy(S)).order

    assert refused_move_message(order, S) == (
        "the channel already shipped this order at 2026-11-01 12:00 UTC"
    )
    assert refused_move_message(order, X).endswith(", so it cannot move to cancelled")


def test_a_forward_copy_in_the_same_second_brings_its_fields_along() -> None:
    # Amazon stamps whole seconds: CONFIRMED and SHIPPED may carry the same LastUpdateDate, and
    # the SHIPPED copy's shipment must not be lost for it.
    decision = decide_channel_update(C, T0, channel_copy(S, T0))
    assert decision.status_moves == [S]
    assert decision.refresh_fields
    assert not decide_channel_update(S, T0, channel_copy(S, T0)).refresh_fields
