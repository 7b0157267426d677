"""Bodies of the control API (CONTRACT.md section 6)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Self

from pydantic import AwareDatetime, Field, model_validator

from orderhub_common.events import CamelModel, OrderStatus

MAX_CREATE = 10_000


class OrdersCreate(CamelModel):
    count: Annotated[int, Field(ge=1, le=MAX_CREATE)]
    # Optional backdating, for a history that spans weeks: each order is placed at a random
    # moment in [placedFrom, placedTo], in the past. The feeds still list them as changed now.
    placed_from: AwareDatetime | None = None
    placed_to: AwareDatetime | None = None

    @model_validator(mode="after")
    def _placement_window_is_whole_ordered_and_past(self) -> Self:
        if (self.placed_from is None) != (self.placed_to is None):
            raise ValueError("placedFrom and placedTo go together")
        if self.placed_from and self.placed_to and self.placed_from > self.placed_to:
            raise ValueError("placedFrom must not be later than placedTo")
        if self.placed_to and self.placed_to > datetime.now(UTC):
            raise ValueError("placedTo must not lie in the future")
        return self

    @property
    def placement_window(self) -> tuple[AwareDatetime, AwareDatetime] | None:
        if self.placed_from is None or self.placed_to is None:
            return None
        return self.placed_from, self.placed_to


class OrdersCreated(CamelModel):
    created: list[str]


class StatusMove(CamelModel):
    status: OrderStatus


class FaultSettings(CamelModel):
    down: bool = False
    error_rate: Annotated[float, Field(ge=0, le=1)] = 0.0
    latency_ms: Annotated[int, Field(ge=0, le=60_000)] = 0


class OrderCount(CamelModel):
    count: int
