"""The states of a circuit breaker, as every API, metric and log names them.

The values are the ``circuitbreaker`` library's own state names, so ``CircuitState(breaker.state)``
reads a breaker directly. ``GET /api/channels`` (CONTRACT.md section 4) shows them as they are.
"""

from __future__ import annotations

from enum import StrEnum

from prometheus_client import Gauge


class CircuitState(StrEnum):
    CLOSED = "closed"  # calls go through
    OPEN = "open"  # calls fail at once, without asking, until the recovery time is over
    HALF_OPEN = "half_open"  # the recovery time is over: the next call decides


# How a gauge encodes a circuit (ingest_circuit_state, gateway_upstream_circuit_state,
# orders_write_back_circuit_state).
GAUGE_VALUES = {CircuitState.CLOSED: 0, CircuitState.HALF_OPEN: 1, CircuitState.OPEN: 2}


class CircuitGauges:
    """Exports one circuit (the series ``label``): its state, and, given a gauge for it, the
    Unix time it left closed (0 while closed). Open, half open, open again is one outage until
    a call succeeds and closes the circuit."""

    def __init__(self, label: str, state: Gauge, opened: Gauge | None = None) -> None:
        self._label = label
        self._state = state
        self._opened = opened
        self._left_closed_at: float | None = None

    def export(self, circuit: CircuitState, now: float) -> None:
        """``now``: the Unix time, read only when the circuit has just left closed."""
        self._state.labels(self._label).set(GAUGE_VALUES[circuit])
        if circuit is CircuitState.CLOSED:
            self._left_closed_at = None
        elif self._left_closed_at is None:
            self._left_closed_at = now
        if self._opened is not None:
            self._opened.labels(self._label).set(self._left_closed_at or 0)
