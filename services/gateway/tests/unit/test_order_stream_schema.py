"""The API document describes each event of ``GET /api/events`` as a client parses it."""

import json

import pytest
from fastapi import FastAPI

from gateway.api import order_stream

pytestmark = pytest.mark.unit


def test_each_stream_event_has_its_type_id_and_the_order_event_as_json_data() -> None:
    app = FastAPI()
    app.include_router(order_stream.router)

    content = app.openapi()["paths"]["/api/events"]["get"]["responses"]["200"]["content"]
    item = content["text/event-stream"]["schema"]

    assert item["required"] == ["event", "id", "data"]
    assert item["properties"]["event"]["enum"] == [
        "order.created",
        "order.status_changed",
        "order.note_added",
        "order.tags_changed",
        "order.write_back_answered",
    ]
    data = item["properties"]["data"]
    assert data["type"] == "string"
    assert data["contentMediaType"] == "application/json"
    changed = next(
        variant
        for variant in data["contentSchema"]["oneOf"]
        if variant["properties"]["eventType"].get("const") == "order.status_changed"
    )
    assert {"eventId", "orderId", "status", "previousStatus"} <= set(changed["properties"])
    assert "$ref" not in json.dumps(item)  # stands alone inside the combined document
