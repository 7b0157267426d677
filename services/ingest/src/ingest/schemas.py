from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime

from orderhub_common.events import CamelModel, Channel


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class ChannelStatus(CamelModel):
    """One row of ``GET /channels`` (``GET /api/channels`` through the gateway)."""

    channel: Channel
    circuit: CircuitState = CircuitState.CLOSED
    last_success_at: AwareDatetime | None = None
    last_error_at: AwareDatetime | None = None
    last_error: str | None = None
    orders_ingested: int = 0
