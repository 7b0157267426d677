"""The audit keeper and the job tables against real Kafka and PostgreSQL: each audit record is
kept once however often it is delivered, an undecodable one is dead-lettered, the store refuses
to change or remove a record, and a bulk move's items are fixed when its job starts."""

from __future__ import annotations

import uuid
from datetime import timedelta

import asyncpg
import pytest

from devstack.pytest_plugin import InfraUrls, eventually
from orderhub_common.events import AuditRecorded
from orders.audit_log import AuditLog
from orders.query_side import ProjectedOrder, QuerySide, WorkStore
from orders.schemas import AuditQuery, OrderView

from .conftest import T0, Pipeline, database_url
from .test_query_side import order

pytestmark = pytest.mark.integration


def a_record(**changes: object) -> AuditRecorded:
    return AuditRecorded.model_validate(
        {
            "service": "auth",
            "action": "user.signed_in",
            "actorId": "u1",
            "clientAddress": "10.0.0.7",
            "requestId": "req-1",
            **changes,
        }
    )


async def test_a_record_delivered_twice_is_kept_once_and_a_broken_one_is_dead_lettered(
    pipeline: Pipeline,
) -> None:
    record = a_record(target="u1")
    body = record.model_dump_json().encode()
    await pipeline.producer.send_and_wait(pipeline.topics.audit, body, key=b"u1")
    await pipeline.producer.send_and_wait(pipeline.topics.audit, body, key=b"u1")
    await pipeline.producer.send_and_wait(pipeline.topics.audit, b"{not json", key=b"x")
    log = AuditLog(WorkStore(pipeline.query_side))

    async def kept() -> bool:
        page = await log.page(AuditQuery.model_validate({"target": "u1"}))
        return page.pagination.total == 1

    await eventually(kept, what="the audit record to be kept")

    async def dead_lettered() -> bool:
        records = await pipeline.read(pipeline.topics.audit_dlq)
        return any(r.value == b"{not json" for r in records)

    await eventually(dead_lettered, what="the broken record in the audit dead-letter topic")
    ingest_dead_letters = await pipeline.read(pipeline.topics.ingested_dlq)
    assert not any(r.value == b"{not json" for r in ingest_dead_letters)
    (entry,) = (await log.page(AuditQuery.model_validate({"target": "u1"}))).records
    assert (entry.event_id, entry.actor_id, entry.client_address, entry.request_id) == (
        str(record.event_id),
        "u1",
        "10.0.0.7",
        "req-1",
    )


async def test_audit_records_cannot_be_changed_or_removed_even_by_the_owner(
    query_side: QuerySide, infra: InfraUrls, unique_name: str
) -> None:
    # The service's own role may not even try (test_service_role.py); the trigger holds for the
    # owner too.
    log = AuditLog(WorkStore(query_side))
    assert await log.keep([a_record(), a_record(action="user.signed_out")]) == 2
    owner = await asyncpg.connect(database_url(infra, unique_name))
    try:
        for statement in (
            "UPDATE audit_records SET action = 'user.role_changed'",
            "DELETE FROM audit_records",
            "TRUNCATE audit_records",
        ):
            with pytest.raises(asyncpg.RaiseError, match="append-only"):
                await owner.execute(statement)
    finally:
        await owner.close()
    assert (await log.page(AuditQuery())).pagination.total == 2


async def test_audit_filters_and_paging(query_side: QuerySide) -> None:
    log = AuditLog(WorkStore(query_side))
    records = [
        a_record(
            action="order.status_moved", target=f"ord_{n}", occurredAt=T0 + timedelta(minutes=n)
        )
        for n in range(5)
    ] + [a_record(action="view.saved", actorId="u2", occurredAt=T0)]
    await log.keep(records)

    moved = await log.page(AuditQuery.model_validate({"action": "order.status_moved", "limit": 2}))
    assert moved.pagination.total == 5
    assert moved.pagination.total_pages == 3
    assert [r.target for r in moved.records] == ["ord_4", "ord_3"]  # newest first
    by_actor = await log.page(AuditQuery.model_validate({"actorId": "u2"}))
    assert [r.action for r in by_actor.records] == ["view.saved"]
    since = await log.page(
        AuditQuery.model_validate({"from": (T0 + timedelta(minutes=3)).isoformat()})
    )
    assert {r.target for r in since.records} == {"ord_3", "ord_4"}


async def test_a_bulk_move_covers_the_view_as_it_was_when_it_started(
    query_side: QuerySide,
) -> None:
    await query_side.project(ProjectedOrder(order(n), 1) for n in range(30))
    store = WorkStore(query_side)
    view = OrderView.model_validate({"channel": ["website"], "sortBy": "total", "sortOrder": "asc"})
    job_id = f"job_{uuid.uuid4().hex}"
    row = {
        "id": job_id,
        "kind": "status_move",
        "state": "queued",
        "created_by": "u1",
        "created_at": T0,
        "updated_at": T0,
        "params": {"status": "CONFIRMED"},
        "total": 0,
        "processed": 0,
        "moved": 0,
        "refused": 0,
        "cancel_requested": False,
    }
    job = await store.create_job(row, items_of=view, sort=("total", "asc"))
    # Orders arriving later are not part of it.
    await query_side.project(ProjectedOrder(order(n), 1) for n in range(30, 36))

    pending = await store.pending_items(job_id, 100)
    website = sorted(
        (o for o in (order(n) for n in range(30)) if o.channel == "website"), key=lambda o: o.total
    )
    assert job["total"] == len(website) == 10
    assert [order_id for _, order_id in pending] == [o.id for o in website]
    # Recording an outcome twice (a resumed chunk) counts it once.
    first = [(position, "moved", None, "PLACED", None) for position, _ in pending[:3]]
    await store.record_items(job_id, first)
    await store.record_items(
        job_id,
        [*first, (pending[3][0], "refused", "already_final", "CANCELLED", "it is final")],
    )
    stored = await store.job(job_id)
    assert stored is not None
    assert (stored["processed"], stored["moved"], stored["refused"]) == (4, 3, 1)
    assert len(await store.pending_items(job_id, 100)) == 6
    # The refused order is listed as an admin knows it, with the server's reason.
    refused, total = await store.item_page(job_id, "refused", 0, 10)
    assert total == 1
    (item,) = refused
    shown = website[3]
    assert (item["order_id"], item["external_id"], item["channel"], item["customer"]) == (
        shown.id,
        shown.external_id,
        shown.channel.value,
        shown.customer.name,
    )
    assert (item["reason"], item["message"]) == ("already_final", "it is final")
    taken = await store.take_job("runner-a", lease_s=30)
    assert taken is not None
    assert taken["id"] == job_id
    assert await store.take_job("runner-b", lease_s=30) is None  # held by runner-a


async def test_the_audit_log_is_searched_by_email_part_of_an_action_and_external_order_id(
    query_side: QuerySide,
) -> None:
    placed = order(7)
    await query_side.project([ProjectedOrder(placed, 1)])
    log = AuditLog(WorkStore(query_side))
    await log.keep(
        [
            a_record(action="order.status_moved", target=placed.id, actorEmail="asha@shop.in"),
            a_record(action="bulk_move.started", target="job_1", actorEmail="vik@shop.in"),
            a_record(action="bulk_move.applied", target="bulk_1", actorId="u9"),
            a_record(action="user.signed_in", target="u1", actorEmail="asha@shop.in"),
        ]
    )

    async def found(**params: str) -> list[str]:
        page = await log.page(AuditQuery.model_validate(params))
        return sorted(r.action for r in page.records)

    # Part of an action's name: "bulk" is a search, never an invalid request.
    assert await found(action="bulk") == ["bulk_move.applied", "bulk_move.started"]
    assert await found(action="bulk_move.started") == ["bulk_move.started"]
    # Who acted, by any part of their email (any case) or by their id.
    assert await found(actor="ASHA@") == ["order.status_moved", "user.signed_in"]
    assert await found(actor="u9") == ["bulk_move.applied"]
    # An order by its external id, and the record says which order it was.
    (by_external_id,) = (
        await log.page(AuditQuery.model_validate({"target": placed.external_id}))
    ).records
    assert by_external_id.target == placed.id
    assert by_external_id.target_external_id == placed.external_id
    assert by_external_id.target_channel == placed.channel
    # Wildcards are literal text.
    assert await found(actor="%") == []
    assert (await log.actions()).actions == [
        "bulk_move.applied",
        "bulk_move.started",
        "order.status_moved",
        "user.signed_in",
    ]
