"""Bodies of the control API (CONTRACT.md section 6)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from orderhub_common.events import CamelModel, OrderStatus

MAX_CREATE = 10_000


class OrdersCreate(CamelModel):
    count: Annotated[int, Field(ge=1, le=MAX_CREATE)]


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
