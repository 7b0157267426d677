from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY

from devstack.pytest_plugin import eventually
from orderhub_common.events import OrderStatus
from orderhub_common.testing import channel_order
from orders.changes import order_id_for
from orders.rebuild import rebuild_query_side
from orders.repository import OrderRepository
from orders.service import OrderService

from .conftest import T0, Pipeline

pytestmark = pytest.mark.integration


def events_of(records: list[Any], order_id: str) -> list[dict[str, Any]]:
    return [json.loads(r.value) for r in records if r.key == order_id.encode()]


async def channel_orders(pipeline: Pipeline) -> list[dict[str, Any]]:
    """The stored orders, without the sentinels ``settle`` adds."""
    stored = await pipeline.orders.find({}, sort=[("_id", 1)]).to_list()
    return [o for o in stored if not o["externalId"].startswith("SENTINEL-")]


def stale_skips() -> float:
    return REGISTRY.get_sample_value("orders_skipped_stale_total", {"reason": "stale"}) or 0.0


async def test_a_new_order_is_stored_normalized_and_announced_once(pipeline: Pipeline) -> None:
    order = channel_order("WEB-1", channel="website")
    await pipeline.send(order)
    await pipeline.settle()

    order_id = order_id_for("website", "WEB-1")
    stored = await pipeline.orders.find_one({"_id": order_id})
    assert stored is not None
    assert (stored["channel"], stored["externalId"], stored["status"]) == (
        "website",
        "WEB-1",
        "PLACED",
    )
    events = events_of(await pipeline.read(pipeline.topics.order_events), order_id)
    assert [e["eventType"] for e in events] == ["order.created"]
    assert events[0]["order"]["id"] == order_id
    # Each history entry keeps the id of the event that announced it.
    assert stored["statusHistory"] == [
        {
            "status": "PLACED",
            "changedAt": T0,
            "changedBy": None,
            "changedByEmail": None,
            "source": "channel",
            "note": None,
            "eventId": events[0]["eventId"],
        }
    ]


async def test_the_same_event_twice_changes_nothing(pipeline: Pipeline) -> None:
    order = channel_order("AMZ-1", channel="amazon")
    await pipeline.send(order)
    await pipeline.settle()
    order_id = order_id_for("amazon", "AMZ-1")
    before = await pipeline.orders.find_one({"_id": order_id})
    stale_before = stale_skips()

    await pipeline.send(order)
    await pipeline.settle()

    assert await pipeline.orders.find_one({"_id": order_id}) == before
    events = events_of(await pipeline.read(pipeline.topics.order_events), order_id)
    assert [e["eventType"] for e in events] == ["order.created"]
    assert stale_skips() == stale_before + 1


async def test_replaying_the_whole_topic_changes_nothing(pipeline: Pipeline) -> None:
    for external_id, status in [("B-1", "PLACED"), ("B-2", "CONFIRMED"), ("B-3", "PLACED")]:
        await pipeline.send(channel_order(external_id, channel="blinkit", status=status))
    await pipeline.send(
        channel_order(
            "B-1", channel="blinkit", status=OrderStatus.SHIPPED, updated_at=T0 + timedelta(hours=2)
        )
    )
    await pipeline.settle()
    store_before = await channel_orders(pipeline)
    projection_before = await pipeline.projection()
    events_before = await pipeline.read(pipeline.topics.order_events)

    for record in await pipeline.read(pipeline.topics.ingested):
        await pipeline.send_raw(record.value, key=record.key, headers=list(record.headers))
    await pipeline.settle()

    assert await channel_orders(pipeline) == store_before
    assert len(projection_before["rows"]) == 3
    # The query side is idempotent too: a replay rewrites no row and moves no count.
    assert await pipeline.projection() == projection_before
    events_after = await pipeline.read(pipeline.topics.order_events)
    new_events = [json.loads(r.value) for r in events_after[len(events_before) :]]
    # Only the new sentinel orders (one a lane) are announced; the replay added nothing.
    assert [e["eventType"] for e in new_events] == ["order.created"] * 2
    assert all(e["order"]["externalId"].startswith("SENTINEL-") for e in new_events)


def dead_lettered(error_type: str) -> float:
    labels = {"stream": "ingested", "error_type": error_type}
    return REGISTRY.get_sample_value("orders_dead_lettered_total", labels) or 0.0


async def test_a_malformed_event_is_dead_lettered_and_the_next_one_processed(
    pipeline: Pipeline,
) -> None:
    invalid_json_before = dead_lettered("invalid_json")
    await pipeline.send_raw(
        b'{"eventType": "order.ingested", "order": {"channel": "ebay"',
        key=b"ebay:1",
        headers=[("correlation_id", b"corr-poison-1")],
    )
    unknown_channel = channel_order("X-1").model_dump(mode="json")
    unknown_channel["channel"] = "ebay"
    await pipeline.send_raw(
        json.dumps({"eventType": "order.ingested", "order": unknown_channel}).encode(),
        key=b"ebay:X-1",
    )
    await pipeline.send(channel_order("WEB-AFTER-POISON"))
    await pipeline.settle()

    assert await pipeline.orders.find_one({"externalId": "WEB-AFTER-POISON"}) is not None
    dead = await pipeline.read(pipeline.topics.ingested_dlq)
    assert [r.key for r in dead] == [b"ebay:1", b"ebay:X-1"]
    headers = [dict((k, v.decode()) for k, v in r.headers) for r in dead]
    assert headers[0]["x-error-type"] == "invalid_json"
    assert headers[0]["correlation_id"] == "corr-poison-1"
    assert headers[0]["x-original-topic"] == pipeline.topics.ingested
    assert headers[0]["x-original-partition"] == "0"
    assert headers[0]["x-original-offset"] == "0"
    assert headers[1]["x-error-type"] == "unknown_channel"
    assert "channel" in headers[1]["x-error"]
    assert dead[0].value.startswith(b'{"eventType": "order.ingested"')
    assert dead_lettered("invalid_json") == invalid_json_before + 1


async def test_a_nul_from_a_channel_never_reaches_the_stores_nor_stalls_the_consumer(
    pipeline: Pipeline,
) -> None:
    """Finding 7: PostgreSQL refuses NUL in text and JSONB, so one NUL that reached the query
    side would stall the relay or the dead-letter keeper. Whatever ingest sent, a channel's
    text is cleaned, an id holding a NUL is dead-lettered with the reason, and a raw NUL byte
    (not even JSON) is dead-lettered and kept; the order after them flows."""
    hostile = channel_order("NUL-1").model_dump(mode="json")
    hostile["customer"]["name"] = "Priya\x00\x1b[2J\u202e Sharma\r\n"
    hostile["items"][0]["sku"] = "RING\x00-18K"
    hostile["shipment"] = {"carrier": "Blue\x00Dart", "trackingNumber": "\u202eBD1"}
    await pipeline.send_raw(
        json.dumps({"eventType": "order.ingested", "order": hostile}).encode(),
        key=b"website:NUL-1",
    )
    bad_id = channel_order("NUL-2").model_dump(mode="json") | {"externalId": "NUL\x00-2"}
    await pipeline.send_raw(
        json.dumps({"eventType": "order.ingested", "order": bad_id}).encode(),
        key=b"website:NUL-2",
        headers=[("correlation_id", b"corr\x00nul")],
    )
    await pipeline.send_raw(b'{"eventType": "order.ingested", "x": "\x00"}', key=b"website:NUL-3")
    await pipeline.send(channel_order("WEB-AFTER-NUL"))
    await pipeline.settle()

    stored = await pipeline.orders.find_one({"_id": order_id_for("website", "NUL-1")})
    assert stored is not None
    assert stored["customer"]["name"] == "Priya[2J Sharma"
    assert stored["items"][0]["sku"] == "RING-18K"
    assert stored["shipment"] == {"carrier": "BlueDart", "trackingNumber": "BD1"}
    rows = (await pipeline.projection())["rows"]
    assert rows[order_id_for("website", "NUL-1")]["document"]["customer"]["name"] == (
        "Priya[2J Sharma"
    )
    assert order_id_for("website", "WEB-AFTER-NUL") in rows
    assert await pipeline.orders.find_one({"externalId": "NUL\x00-2"}) is None

    dead = await pipeline.read(pipeline.topics.ingested_dlq)
    assert [r.key for r in dead] == [b"website:NUL-2", b"website:NUL-3"]
    reasons = [dict((k, v.decode()) for k, v in r.headers) for r in dead]
    assert reasons[0]["x-error-type"] == "invalid_event"
    assert "order.externalId" in reasons[0]["x-error"]
    assert "control characters" in reasons[0]["x-error"]
    assert reasons[1]["x-error-type"] == "invalid_json"

    # The dead-letter keeper stores both in PostgreSQL (and so goes on): a NUL it cannot store
    # is shown as U+FFFD.
    async def kept() -> bool:
        letters, _ = await pipeline.query_side.dead_letter_page(None, 1, 10)
        return len(letters) == 2

    await eventually(kept, what="both dead letters to be kept")
    letters, _ = await pipeline.query_side.dead_letter_page(None, 1, 10)
    by_key = {letter.key: letter for letter in letters}
    assert by_key["website:NUL-2"].headers["correlation_id"] == "corr\ufffdnul"
    assert by_key["website:NUL-3"].payload == '{"eventType": "order.ingested", "x": "\ufffd"}'


async def test_channel_moves_forward_and_a_backwards_change_is_ignored(
    pipeline: Pipeline,
) -> None:
    external_id = "AMZ-FLOW"
    await pipeline.send(channel_order(external_id, channel="amazon"))
    await pipeline.send(
        channel_order(
            external_id,
            channel="amazon",
            status=OrderStatus.SHIPPED,
            updated_at=T0 + timedelta(hours=1),
        )
    )
    await pipeline.settle()
    stale_before = stale_skips()

    await pipeline.send(
        channel_order(
            external_id,
            channel="amazon",
            status=OrderStatus.CONFIRMED,
            updated_at=T0 + timedelta(hours=2),
            customer={
                "name": "Priya S. Sharma",
                "phone": "+91 98765 43210",
                "email": "priya@example.com",
            },
        )
    )
    await pipeline.settle()

    order_id = order_id_for("amazon", external_id)
    stored = await pipeline.orders.find_one({"_id": order_id})
    assert stored is not None
    assert stored["status"] == "SHIPPED", stored
    assert [h["status"] for h in stored["statusHistory"]] == ["PLACED", "CONFIRMED", "SHIPPED"]
    assert stored["customer"]["name"] == "Priya S. Sharma"  # newer fields still apply
    assert stale_skips() == stale_before + 1
    events = events_of(await pipeline.read(pipeline.topics.order_events), order_id)
    assert [(e["eventType"], e.get("previousStatus"), e.get("status")) for e in events] == [
        ("order.created", None, None),
        ("order.status_changed", "PLACED", "CONFIRMED"),
        ("order.status_changed", "CONFIRMED", "SHIPPED"),
    ]
    assert len({e["eventId"] for e in events}) == 3


async def test_a_rebuilt_query_side_equals_the_live_one(pipeline: Pipeline) -> None:
    later = T0 + timedelta(hours=3)
    for n in range(12):
        await pipeline.send(channel_order(f"RB-{n}", channel=["website", "amazon"][n % 2]))
    await pipeline.send(
        channel_order("RB-1", channel="amazon", status=OrderStatus.DELIVERED, updated_at=later)
    )
    await pipeline.send(channel_order("RB-2", channel="website", total=99.5, updated_at=later))
    await pipeline.settle()
    service: OrderService = pipeline.app.state.order_service
    await service.move_status(
        order_id_for("website", "RB-4"), OrderStatus.CANCELLED, changed_by="u-1", note="dup"
    )
    live = await pipeline.projection()
    assert len(live["rows"]) == 12

    await rebuild_query_side(OrderRepository(), pipeline.query_side)

    rebuilt = await pipeline.projection()
    assert set(rebuilt["rows"]) == set(live["rows"])
    for order_id, row in rebuilt["rows"].items():
        assert {**row, "projected_at": None} == {**live["rows"][order_id], "projected_at": None}
    assert rebuilt["counts"] == live["counts"]
