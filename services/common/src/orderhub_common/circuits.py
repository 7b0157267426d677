"""The states of a circuit breaker, as every API, metric and log names them.

The values are the ``circuitbreaker`` library's own state names, so ``CircuitState(breaker.state)``
reads a breaker directly. ``GET /api/channels`` (CONTRACT.md section 4) shows them as they are.
"""

from __future__ import annotations

from enum import StrEnum


class CircuitState(StrEnum):
    CLOSED = "closed"  # calls go through
    OPEN = "open"  # calls fail at once, without asking, until the recovery time is over
    HALF_OPEN = "half_open"  # the recovery time is over: the next call decides


# How a gauge encodes a circuit (ingest_circuit_state, gateway_upstream_circuit_state).
GAUGE_VALUES = {CircuitState.CLOSED: 0, CircuitState.HALF_OPEN: 1, CircuitState.OPEN: 2}
