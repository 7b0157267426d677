"""The two lanes through a running orders service: a live order is not queued behind a history
backlog, an older change on the history lane never undoes a newer live one, ``/pipeline`` tells
how far behind each lane is; and the batched write of channel copies changes nothing and
announces nothing when the same batch comes again."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from devstack.pytest_plugin import InfraUrls, eventually
from orderhub_common.events import Event, OrderIngested, OrderStatus
from orderhub_common.kafka import Lane, Topics, ensure_topics
from orderhub_common.testing import channel_order
from orders.changes import order_id_for
from orders.documents import OutboxDocument
from orders.query_side import QuerySide
from orders.repository import OrderRepository
from orders.service import ChannelOutcome, OrderService

from .conftest import T0, Pipeline, bearer, orders_settings, running_pipeline

pytestmark = pytest.mark.integration

BACKLOG = 3000


async def queue_history_backlog(
    infra: InfraUrls, name: str, producer: AIOKafkaProducer, count: int
) -> None:
    """``count`` orders of last month waiting on the history lane before orders starts."""
    settings = orders_settings(infra, name)
    await ensure_topics(settings)
    topic = Topics(settings.kafka_topic_prefix).of_lane(Lane.HISTORY)
    sent = []
    for n in range(count):
        order = channel_order(f"OLD-{n}", placed_at=T0 - timedelta(days=30))
        sent.append(
            await producer.send(
                topic,
                OrderIngested(order=order).model_dump_json().encode(),
                key=f"website:OLD-{n}".encode(),
            )
        )
    await asyncio.gather(*sent)


async def stored_history(pipeline: Pipeline) -> int:
    return await pipeline.orders.count_documents({"externalId": {"$regex": "^OLD-"}})


async def test_a_live_order_overtakes_a_queued_history_backlog(
    infra: InfraUrls, unique_name: str, producer: AIOKafkaProducer
) -> None:
    await queue_history_backlog(infra, unique_name, producer, BACKLOG)
    # Queued behind the backlog before orders starts, so both lanes have work from the first
    # moment (sent once orders runs, it could come after a backlog drained while the live lane
    # had nothing to do, as it should).
    live_topic = Topics(orders_settings(infra, unique_name).kafka_topic_prefix).of_lane(Lane.LIVE)
    await producer.send_and_wait(
        live_topic,
        OrderIngested(order=channel_order("NEW-1")).model_dump_json().encode(),
        key=b"website:NEW-1",
    )
    # On a busy shared broker the live consumer's first join can take longer than the default
    # minute after which history goes anyway; the property is about a joined live lane.
    running = running_pipeline(infra, unique_name, producer, history_max_wait_s=240.0)
    async with contextlib.aclosing(running) as running:
        pipeline = await anext(running)

        async def backlog_stored() -> bool:
            return await stored_history(pipeline) == BACKLOG

        # The backlog, every order once.
        await eventually(backlog_stored, timeout_s=180, what="the history backlog")
        await pipeline.settle()
        # Orders can drain the whole backlog while it starts, so the order of the writes is read
        # from when each order.created event was made (one batch's events share a moment).
        created_at = {}
        for record in await pipeline.read(pipeline.topics.order_events):
            event = json.loads(record.value)
            if event["eventType"] == "order.created":
                created_at[event["order"]["externalId"]] = event["occurredAt"]
        live_at = created_at.pop("NEW-1")
        history_first = sum(
            1
            for external_id, at in created_at.items()
            if external_id.startswith("OLD-") and at < live_at
        )
        # Stored while most of the backlog that was there first still waited.
        assert history_first < BACKLOG / 2


async def test_an_older_change_on_the_history_lane_never_undoes_a_newer_live_one(
    pipeline: Pipeline,
) -> None:
    order_id = order_id_for("website", "WEB-7")
    await pipeline.send(channel_order("WEB-7"))
    await pipeline.send(
        channel_order("WEB-7", status=OrderStatus.SHIPPED, updated_at=T0 + timedelta(hours=2))
    )
    await pipeline.settle()
    before = await pipeline.orders.find_one({"_id": order_id})
    assert before is not None
    assert before["status"] == "SHIPPED"

    # The backfill's older copy of the same order arrives afterwards, on the other lane.
    await pipeline.send(
        channel_order("WEB-7", status=OrderStatus.CONFIRMED, updated_at=T0 + timedelta(hours=1)),
        lane=Lane.HISTORY,
    )
    await pipeline.settle()

    assert await pipeline.orders.find_one({"_id": order_id}) == before


async def test_pipeline_reports_the_lag_while_a_backlog_waits_and_live_once_it_drained(
    infra: InfraUrls, unique_name: str, producer: AIOKafkaProducer
) -> None:
    # Large enough that draining it outlasts several of the probe's 5 s measurements.
    await queue_history_backlog(infra, unique_name, producer, 6 * BACKLOG)
    await asyncio.sleep(1.5)  # the backlog is older than the "live" bound below
    running = running_pipeline(infra, unique_name, producer, pipeline_live_within_s=1.0)
    async with contextlib.aclosing(running):
        pipeline = await anext(running)
        transport = httpx.ASGITransport(app=pipeline.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://orders") as client:

            async def answer() -> dict[str, Any]:
                response = await client.get("/pipeline", headers=bearer("viewer", "user-v"))
                assert response.status_code == 200, response.text
                body: dict[str, Any] = response.json()
                return body

            async def history_measured() -> bool:
                lanes = {lane["lane"]: lane for lane in (await answer())["lanes"]}
                return bool(lanes["history"]["waiting"] > 0)

            # Once the history lane's consumer has joined and been measured (a fresh broker's
            # group coordinator can take a while; until then it reports nothing waiting).
            await eventually(history_measured, timeout_s=120, what="the history lane measured")
            behind = await answer()
            assert behind["state"] == "catching_up"
            assert behind["behindSeconds"] >= 1.0
            lanes = {lane["lane"]: lane for lane in behind["lanes"]}
            assert lanes["history"]["waiting"] > 0
            assert lanes["history"]["oldestWaitingAgeSeconds"] >= 1.0
            assert behind["waiting"] == lanes["live"]["waiting"] + lanes["history"]["waiting"]

            async def live_again() -> bool:
                body = await answer()
                return body["state"] == "live" and body["waiting"] == 0

            await eventually(live_again, timeout_s=300, what="the pipeline to drain")
            assert (await client.get("/pipeline")).status_code == 401


async def test_the_same_batch_of_channel_changes_twice_changes_and_announces_nothing_more(
    repository: OrderRepository, query_side: QuerySide
) -> None:
    announced: list[Event] = []

    def written(order_id: str, events: Sequence[Event]) -> None:
        announced.extend(events)

    service = OrderService(repository, query_side, on_written=written)
    ids = [f"WEB-{n}" for n in range(150)]
    await service.record_ingested([OrderIngested(order=channel_order(i)) for i in ids])
    # Two changes of each order in one batch: written as one chain an order.
    changes = [
        OrderIngested(order=channel_order(i, status=status, updated_at=T0 + timedelta(hours=h)))
        for h, status in ((1, OrderStatus.CONFIRMED), (2, OrderStatus.SHIPPED))
        for i in ids
    ]
    first = await service.record_ingested(changes)
    assert first == [ChannelOutcome.UPDATED] * len(changes)
    stored = {i: await repository.get(order_id_for("website", i)) for i in ids}
    assert {s.order.status for s in stored.values() if s} == {OrderStatus.SHIPPED}
    announced_once = list(announced)
    outbox_once = await OutboxDocument.find({}).count()
    assert len([e for e in announced_once if e.event_type == "order.status_changed"]) == 300

    again = await service.record_ingested(changes)

    assert again == [ChannelOutcome.UNCHANGED] * len(changes)
    assert {i: await repository.get(order_id_for("website", i)) for i in ids} == stored
    assert announced == announced_once
    assert await OutboxDocument.find({}).count() == outbox_once


async def test_a_batch_computed_before_an_admins_move_is_redone_from_the_move_not_lost(
    repository: OrderRepository, query_side: QuerySide, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = OrderService(repository, query_side)
    await service.record_ingested([OrderIngested(order=channel_order("WEB-9"))])
    order_id = order_id_for("website", "WEB-9")
    as_read = await repository.get_many([order_id])
    # An admin confirms the order after the batch read it and before the batch writes.
    await service.move_status(order_id, OrderStatus.CONFIRMED, changed_by="admin-1", note=None)

    async def stale_read(order_ids: object) -> dict[str, object]:
        return dict(as_read)

    monkeypatch.setattr(repository, "get_many", stale_read)
    shipped = channel_order("WEB-9", status=OrderStatus.SHIPPED, updated_at=T0 + timedelta(hours=1))
    outcomes = await service.record_ingested([OrderIngested(order=shipped)])
    monkeypatch.undo()

    assert outcomes == [ChannelOutcome.UPDATED]
    stored = await repository.get(order_id)
    assert stored is not None
    assert [(e.status, e.source) for e in stored.order.status_history] == [
        (OrderStatus.PLACED, "channel"),
        (OrderStatus.CONFIRMED, "admin"),
        (OrderStatus.SHIPPED, "channel"),
    ]
    # The lost attempt's outbox entries are gone: only events of changes that happened wait.
    waiting = {p.entry.event_id for p in await repository.pending_events(100)}
    assert waiting <= stored.announced
