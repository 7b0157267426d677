"""The edge's own admission: at most ``GATEWAY_MAX_IN_FLIGHT`` API calls in this process at once.

Each service already has its own slots (``upstreams``), but every call costs the edge itself a
token check, a Redis round trip and a slot wait before it is refused there; under a burst far
above capacity those calls pile up in the one event loop, whose callers have long given up, and
the edge stays busy working them off after the burst. A call beyond the limit is answered 503
``service_unavailable`` with ``Retry-After`` at once, before any of that work; the event stream
(``/api/events``, long-lived by design) is not counted.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.metrics import EDGE_SHED
from orderhub_common.errors import error_response
from orderhub_common.http import HttpMiddleware

_COUNTED_PREFIX = "/api/"
_NOT_COUNTED = frozenset({"/api/events"})
_RETRY_AFTER_S = "1"


class AdmissionMiddleware(HttpMiddleware):
    def __init__(self, app: ASGIApp, *, max_in_flight: int) -> None:
        super().__init__(app)
        self._max_in_flight = max_in_flight
        self._in_flight = 0

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if not path.startswith(_COUNTED_PREFIX) or path in _NOT_COUNTED:
            await self.app(scope, receive, send)
            return
        if self._in_flight >= self._max_in_flight:
            EDGE_SHED.inc()
            refusal = error_response(
                503,
                "service_unavailable",
                f"the gateway is at capacity, retry in {_RETRY_AFTER_S}s",
                headers={"Retry-After": _RETRY_AFTER_S},
            )
            await refusal(scope, receive, send)
            return
        self._in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self._in_flight -= 1
