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
    # The first failed poll since the last good one, and how many polls failed since (each
    # after its retries); both empty while the channel is healthy.
    failing_since: AwareDatetime | None = None
    failed_polls: int = 0
    orders_ingested: int = 0
    paused: bool = False
    """Ingestion of this channel is paused (by config or by an admin): it is not polled."""
