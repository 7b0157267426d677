"""A relay asks the store for its lease only when it holds less than two thirds of it: every
round and every write-back send asked before, a quarter of a status move's store commands."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

import pytest

from orderhub_common.logging import utc_now
from orders.relay_lease import RelayLease
from orders.repository import OrderRepository

pytestmark = pytest.mark.unit

LEASE_S = 30.0


class LeaseTable:
    """The store's lease document of one relay, taken as ``take_relay_lease`` takes it."""

    def __init__(self) -> None:
        self.owner: str | None = None
        self.until: datetime | None = None
        self.asked = 0

    async def take_relay_lease(
        self, owner: str, now: datetime, until: datetime, *, relay: str = "outbox"
    ) -> bool:
        assert relay == "write_back"
        self.asked += 1
        if self.owner not in {None, owner} and self.until is not None and self.until >= now:
            return False
        self.owner, self.until = owner, until
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def lease_on(table: LeaseTable, clock: Clock) -> RelayLease:
    return RelayLease(
        cast(OrderRepository, table),
        "write_back",
        lease_s=LEASE_S,
        owner_prefix="write-back",
        clock=clock,
    )


async def test_the_holder_renews_only_once_a_third_of_its_lease_has_passed() -> None:
    table, clock = LeaseTable(), Clock()
    lease = lease_on(table, clock)

    assert await lease.take_or_renew()
    assert table.owner == lease.owner
    assert table.until is not None
    assert abs((table.until - utc_now()).total_seconds() - LEASE_S) < 1

    # Rounds and sends within the first third: the lease runs 20 s more at least, unasked.
    for _ in range(50):
        clock.now += 0.19
        assert await lease.take_or_renew()
    assert table.asked == 1

    clock.now = 1000.0 + LEASE_S / 3
    assert await lease.take_or_renew()
    assert table.asked == 2
    assert abs((table.until - utc_now()).total_seconds() - LEASE_S) < 1  # the whole lease again


async def test_a_relay_without_the_lease_asks_every_time_and_takes_it_once_it_runs_out() -> None:
    table, clock = LeaseTable(), Clock()
    holder, standby = lease_on(table, clock), lease_on(table, clock)
    assert await holder.take_or_renew()

    assert not await standby.take_or_renew()
    assert not await standby.take_or_renew()
    assert table.asked == 3

    # The holder stops renewing (it hangs, or its process died); once the lease has run out the
    # standby takes it, and the old holder, asking as its renewal is due, is refused.
    clock.now += LEASE_S
    table.until = utc_now() - timedelta(seconds=1)
    assert await standby.take_or_renew()
    assert table.owner == standby.owner
    assert not await holder.take_or_renew()  # the old holder asks, and is refused
    assert table.asked == 5


async def test_a_failed_renewal_is_asked_again_next_time() -> None:
    table, clock = LeaseTable(), Clock()
    lease = lease_on(table, clock)
    assert await lease.take_or_renew()
    clock.now += LEASE_S  # past the renewal point

    async def unreachable(*args: Any, **kwargs: Any) -> bool:
        raise TimeoutError("the store did not answer")

    original = table.take_relay_lease
    table.take_relay_lease = unreachable  # type: ignore[method-assign]
    with pytest.raises(TimeoutError):
        await lease.take_or_renew()
    table.take_relay_lease = original  # type: ignore[method-assign]

    assert await lease.take_or_renew()
    assert table.asked == 2
