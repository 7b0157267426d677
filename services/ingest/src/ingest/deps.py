from __future__ import annotations

from fastapi import Request

from ingest.state import IngestState


def get_ingest_state(request: Request) -> IngestState:
    state: IngestState = request.app.state.ingest_state
    return state
