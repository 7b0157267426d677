from __future__ import annotations

from pydantic import AwareDatetime

from orderhub_common.circuits import CircuitState
from orderhub_common.events import CamelModel, Channel


class ChannelStatus(CamelModel):
    """One row of ``GET /channels`` (``GET /api/channels`` through the gateway)."""

    channel: Channel
    circuit: CircuitState = CircuitState.CLOSED
    last_success_at: AwareDatetime | None = None
    last_error_at: AwareDatetime | None = None
    last_error: str | None = None
    orders_ingested: int = 0
