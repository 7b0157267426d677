from __future__ import annotations

import json

import pytest
from aiokafka import ConsumerRecord

from orderhub_common.events import OrderIngested
from orderhub_common.testing import channel_order
from orders.consumers import PoisonEventError, dead_letter_headers, decode_ingested

pytestmark = pytest.mark.unit


def ingested_json(**order_overrides: object) -> dict[str, object]:
    body = OrderIngested(order=channel_order("BLK-1", channel="blinkit")).model_dump(mode="json")
    body["order"].update(order_overrides)  # type: ignore[union-attr]
    return body


def test_a_valid_event_decodes() -> None:
    event = decode_ingested(json.dumps(ingested_json()).encode())
    assert event.order.external_id == "BLK-1"


@pytest.mark.parametrize(
    ("body", "error_type", "named"),
    [
        (b"{not json", "invalid_json", "JSON"),
        (b"", "invalid_json", "JSON"),
        (json.dumps(ingested_json(channel="ebay")).encode(), "unknown_channel", "order.channel"),
        (json.dumps(ingested_json(total=-1)).encode(), "invalid_event", "order.total"),
        (json.dumps({"eventType": "order.ingested"}).encode(), "invalid_event", "order:"),
        (json.dumps([1, 2]).encode(), "invalid_event", "event:"),
    ],
)
def test_poison_events_are_classified_and_say_what_is_wrong_where(
    body: bytes, error_type: str, named: str
) -> None:
    with pytest.raises(PoisonEventError) as raised:
        decode_ingested(body)
    assert raised.value.error_type == error_type
    # The dead letter's x-error header tells an operator which field broke the event.
    assert named in str(raised.value)


def test_dead_letter_headers_keep_the_originals_and_add_the_error() -> None:
    record = ConsumerRecord(
        topic="orders.ingested.v1",
        partition=3,
        offset=42,
        timestamp=0,
        timestamp_type=0,
        key=b"blinkit:BLK-1",
        value=b"{not json",
        checksum=None,
        serialized_key_size=13,
        serialized_value_size=9,
        headers=[("correlation_id", b"c-1")],
    )
    headers = dead_letter_headers(record, PoisonEventError("invalid_json", "order: bad"))
    assert headers["correlation_id"] == "c-1"
    assert headers["x-error"] == "order: bad"
    assert headers["x-error-type"] == "invalid_json"
    assert headers["x-original-topic"] == "orders.ingested.v1"
    assert headers["x-original-partition"] == "3"
    assert headers["x-original-offset"] == "42"
