"""Request and correlation ids, carried in context variables across await points.

A request id names one HTTP exchange; a correlation id follows one piece of work across
services and Kafka (it starts as the request id, or as a new id at a poll).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextvars import ContextVar

REQUEST_ID_HEADER = "X-Request-ID"
CORRELATION_ID_HEADER = "correlation_id"

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
correlation_id_var: ContextVar[str | None] = ContextVar("correlation_id", default=None)


def new_id() -> str:
    return str(uuid.uuid4())


def current_correlation_id() -> str:
    """The correlation id of the work in progress, or a fresh one when there is none."""
    return correlation_id_var.get() or request_id_var.get() or new_id()


@contextlib.contextmanager
def correlated(correlation_id: str) -> Iterator[None]:
    """Work inside this block, and the events it builds, carry ``correlation_id``."""
    token = correlation_id_var.set(correlation_id)
    try:
        yield
    finally:
        correlation_id_var.reset(token)
