"""``/pipeline``: how far behind the orders consumer is, per lane, for the SPA's header and
the Channels page. Measured in this replica (from its consumers' own fetch metadata, no call to
the broker), so it is cheap to ask often."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import Field

from orderhub_common.events import CamelModel
from orders.deps import PipelineProbeDep, SignedIn

router = APIRouter(tags=["pipeline"])


class LaneLag(CamelModel):
    lane: Literal["live", "history"]
    waiting: int = Field(ge=0, description="events of this lane not processed yet")
    oldest_waiting_age_seconds: float = Field(
        ge=0,
        description="now minus the time ingest published the lane's oldest waiting event; 0 "
        "when none waits",
    )


class Pipeline(CamelModel):
    state: Literal["live", "catching_up"] = Field(
        description="live while every lane's oldest waiting event is younger than "
        "PIPELINE_LIVE_WITHIN_S (10 s by default)"
    )
    behind_seconds: float = Field(
        ge=0, description="age of the oldest unprocessed event across lanes (0 when none waits)"
    )
    waiting: int = Field(ge=0, description="events not processed yet, all lanes")
    lanes: list[LaneLag]
    measured_at: datetime


@router.get(
    "/pipeline",
    responses={401: {"description": "Not signed in, or the access token is not valid"}},
)
async def pipeline(probe: PipelineProbeDep, _: SignedIn) -> Pipeline:
    """How far behind the channels Order Hub is: new orders and fresh changes travel the live
    lane, a history import (a backfill) the history lane, which is processed with what the
    live lane leaves. "Age" is since ingest published an event, not the order's own time."""
    state = await probe.measure()
    return Pipeline(
        state="live" if state.live else "catching_up",
        behind_seconds=state.behind_s,
        waiting=state.waiting,
        lanes=[
            LaneLag(
                lane=lane.lane.value,
                waiting=lane.waiting,
                oldest_waiting_age_seconds=round(lane.oldest_waiting_age_s, 1),
            )
            for lane in state.lanes
        ],
        measured_at=state.measured_at,
    )
