from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, model_validator

from orderhub_common.circuits import CircuitState
from orderhub_common.events import CamelModel, Channel


class BackfillProgress(CamelModel):
    """The history import of a channel's first connection: orders changed since ``since`` (the
    configured number of days before ``until``, the first connection), read oldest first."""

    since: AwareDatetime
    until: AwareDatetime
    reached: AwareDatetime | None = None  # the change time read up to so far
    done: bool = False

    @property
    def percent(self) -> float:
        if self.done:
            return 100.0
        if self.reached is None:
            return 0.0
        span = (self.until - self.since).total_seconds()
        read = (min(self.reached, self.until) - self.since).total_seconds()
        return round(max(0.0, min(99.9, 100 * read / span)), 1) if span > 0 else 0.0


class ChannelConnection(CamelModel):
    """Which connector a channel runs and what it talks to (never a credential)."""

    connector: str
    mode: str  # "live": the platform itself; "simulated": Order Hub's mock channels
    sandbox: bool = False  # the platform's static sandbox (or the simulator's copy of it)


class ConnectionTestResult(CamelModel):
    """``POST /channels/{channel}/connection-test``: one authenticated call, in plain words."""

    channel: Channel
    ok: bool
    detail: str
    elapsed_ms: float
    connection: ChannelConnection
    tested_at: AwareDatetime


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
    # What the last error was, as a kind the Channels page words: unreachable, unavailable,
    # throttled, expired_token, refused, unreadable (``ingest.connectors.base.ApiErrorKind``).
    last_error_kind: str | None = None
    connection: ChannelConnection | None = None
    backfill: BackfillProgress | None = None
    backfill_percent: float | None = None

    @model_validator(mode="before")
    @classmethod
    def _backfill_from_flat_fields(cls, data: Any) -> Any:
        """The repository keeps the backfill as flat fields of the channel's status hash."""
        if isinstance(data, dict) and data.get("lastErrorKind") == "":
            data = {**data, "lastErrorKind": None}
        if isinstance(data, dict) and "backfillSince" in data:
            data = dict(data)
            backfill = BackfillProgress(
                since=data.pop("backfillSince"),
                until=data.pop("backfillUntil"),
                reached=data.pop("backfillReached", None),
                done=data.pop("backfillDone", "0") in ("1", b"1", True),
            )
            data["backfill"] = backfill
            data["backfillPercent"] = backfill.percent
        return data
