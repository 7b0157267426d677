"""The events of ``GET /api/events`` as a client reads them: each one's ``data`` schema.

Documented as components of the API document (``stream_components``), from which the SPA's
types are generated.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import Field
from pydantic.json_schema import models_json_schema

from orderhub_common.events import (
    CamelModel,
    OrderCreated,
    OrderEvent,
    OrderStatus,
    OrderStatusChanged,
)


class StreamEventName(StrEnum):
    CONNECTED = "connected"
    ORDERS_CHANGED = "orders.changed"
    RESET = "reset"


class OrderChange(CamelModel):
    """One order created or changed (a note, tags, a write-back answer count as changes)."""

    order_id: str
    kind: Literal["created", "changed"]
    event_type: str = Field(description="The order event's own type, e.g. `order.status_changed`")
    status: OrderStatus | None = Field(
        None, description="The status it has now, when the change was a status change or creation"
    )

    @classmethod
    def of(cls, event: OrderEvent) -> OrderChange:
        if isinstance(event, OrderCreated):
            return cls(
                order_id=event.order.id,
                kind="created",
                event_type=event.event_type,
                status=event.order.status,
            )
        status = event.status if isinstance(event, OrderStatusChanged) else None
        return cls(
            order_id=event.order_id, kind="changed", event_type=event.event_type, status=status
        )


class OrdersChanged(CamelModel):
    """``event: orders.changed``: every change since the previous message, oldest first."""

    changes: list[OrderChange]


class StreamConnected(CamelModel):
    """``event: connected``: the stream is open; its id is where a reconnect resumes."""

    resumed: bool = Field(
        description="true when the stream resumed from `Last-Event-ID` (what was missed follows)"
    )


class StreamReset(CamelModel):
    """``event: reset``: changes were missed that cannot be replayed; refetch once."""

    reason: str


STREAM_DATA: dict[StreamEventName, type[CamelModel]] = {
    StreamEventName.CONNECTED: StreamConnected,
    StreamEventName.ORDERS_CHANGED: OrdersChanged,
    StreamEventName.RESET: StreamReset,
}
_REF = "#/components/schemas/{model}"


def stream_components() -> dict[str, Any]:
    """The schemas of the stream's events, as components of the API document."""
    models = [(model, "serialization") for model in STREAM_DATA.values()]
    _, top = models_json_schema(models, by_alias=True, ref_template=_REF)  # type: ignore[arg-type]
    schemas: dict[str, Any] = top["$defs"]
    schemas[StreamEventName.__name__] = {
        "type": "string",
        "enum": [name.value for name in StreamEventName],
        "description": "The `event:` field of each event of `GET /api/events`",
    }
    return schemas


def stream_item_schema() -> dict[str, Any]:
    """One event of the stream as a client parses it: its ``event``, ``id`` and ``data`` fields.

    (OpenAPI before 3.2 has a stream's ``schema`` describe each of its events.)
    """
    return {
        "type": "object",
        "required": ["event", "id", "data"],
        "properties": {
            "event": {"$ref": _REF.format(model=StreamEventName.__name__)},
            "id": {
                "type": "string",
                "description": "Where the stream is; sent back as `Last-Event-ID` to resume",
            },
            "data": {
                "type": "string",
                "description": "The event's data as JSON: `StreamConnected`, `OrdersChanged` or "
                "`StreamReset`, by `event`",
                "contentMediaType": "application/json",
                "contentSchema": {
                    "oneOf": [
                        {"$ref": _REF.format(model=model.__name__)}
                        for model in STREAM_DATA.values()
                    ]
                },
            },
            "retry": {"type": "integer", "description": "Milliseconds to wait to reconnect"},
        },
    }


def with_stream_components(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` (the gateway's own API document) with the stream's schemas among its
    components."""
    document.setdefault("components", {}).setdefault("schemas", {}).update(stream_components())
    return document
