"""A simulated channel's order, kept channel-neutral; each format renders it natively."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from mock_channels.catalog import Buyer, LineItem
from orderhub_common.events import OrderStatus


@dataclass(frozen=True)
class Shipment:
    carrier: str
    tracking_number: str


@dataclass
class MockOrder:
    external_id: str
    number: int  # the shop's human-facing order number (Shopify's ``#1001``)
    buyer: Buyer
    items: list[LineItem]
    status: OrderStatus
    placed_at: datetime
    updated_at: datetime
    # When the order reached each status it went through, for native fields such as cancelled_at.
    status_times: dict[OrderStatus, datetime] = field(default_factory=dict)
    # Set when the order ships: who carries it and its tracking number.
    shipment: Shipment | None = None

    @property
    def cash_on_delivery(self) -> bool:
        return self.number % 3 == 0

    @property
    def total_paise(self) -> int:
        return sum(item.total_paise for item in self.items)

    @property
    def sort_key(self) -> tuple[datetime, str]:
        """Feeds list orders by this key so a keyset cursor never skips one."""
        return (self.updated_at, self.external_id)

    @property
    def placed_key(self) -> tuple[datetime, str]:
        """Feeds of new orders list them by this key."""
        return (self.placed_at, self.external_id)

    def move_to(
        self, status: OrderStatus, at: datetime, *, shipment: Shipment | None = None
    ) -> None:
        self.status = status
        self.updated_at = at
        self.status_times[status] = at
        if shipment is not None:
            self.shipment = shipment


@dataclass(frozen=True)
class Faults:
    down: bool = False
    error_rate: float = 0.0
    latency_ms: int = 0
