"""The API document describes each event of ``GET /api/events`` as a client parses it, with
each event's data as a named component (the SPA's event types are generated from them)."""

import json

import pytest
from fastapi import FastAPI

from gateway.api import order_stream
from gateway.stream_events import with_stream_components

pytestmark = pytest.mark.unit


def test_each_stream_event_has_its_type_id_and_its_data_as_a_documented_component() -> None:
    app = FastAPI()
    app.include_router(order_stream.router)

    document = with_stream_components(app.openapi())
    content = document["paths"]["/api/events"]["get"]["responses"]["200"]["content"]
    item = content["text/event-stream"]["schema"]
    schemas = document["components"]["schemas"]

    assert item["required"] == ["event", "id", "data"]
    assert schemas["StreamEventName"]["enum"] == ["connected", "orders.changed", "reset"]
    data = item["properties"]["data"]
    assert data["contentMediaType"] == "application/json"
    assert [variant["$ref"] for variant in data["contentSchema"]["oneOf"]] == [
        "#/components/schemas/StreamConnected",
        "#/components/schemas/OrdersChanged",
        "#/components/schemas/StreamReset",
    ]
    change = schemas["OrderChange"]
    assert change["required"] == ["orderId", "kind", "eventType"]
    assert change["properties"]["kind"]["enum"] == ["created", "changed"]
    assert schemas["OrdersChanged"]["properties"]["changes"]["items"] == {
        "$ref": "#/components/schemas/OrderChange"
    }
    refs = {ref for ref in json.dumps(document).split('"') if ref.startswith("#/components/")}
    assert {ref.rsplit("/", 1)[-1] for ref in refs} <= set(schemas)
