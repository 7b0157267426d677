"""The audit trail: what a record says, and that a broker outage never undoes the action."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker

from orderhub_common.audit import AuditTrail, records_lost
from orderhub_common.context import request_id_var
from orderhub_common.events import AuditOutcome, AuditRecorded
from orderhub_common.kafka import Topics
from orderhub_common.security import Principal, Role

pytestmark = pytest.mark.unit

ADMIN = Principal("u-admin", Role.ADMIN, "jti-1", datetime(2030, 1, 1, tzinfo=UTC))


async def test_a_record_names_who_what_and_the_request() -> None:
    broker = KafkaBroker()
    trail = AuditTrail(broker, Topics(), service="orders")
    received: list[AuditRecorded] = []

    @broker.subscriber("audit.v1")
    async def keep(entry: AuditRecorded) -> None:
        received.append(entry)

    token = request_id_var.set("req-42")
    try:
        async with TestKafkaBroker(broker):
            await trail.record(
                "order.status_moved",
                actor=ADMIN,
                target="ord_1",
                client_address="203.0.113.7",
                details={"from": "PLACED", "to": "CONFIRMED"},
            )
    finally:
        request_id_var.reset(token)

    [entry] = received
    assert (entry.service, entry.action, entry.outcome) == (
        "orders",
        "order.status_moved",
        AuditOutcome.SUCCEEDED,
    )
    assert (entry.actor_id, entry.target, entry.client_address, entry.request_id) == (
        "u-admin",
        "ord_1",
        "203.0.113.7",
        "req-42",
    )
    assert entry.details == {"from": "PLACED", "to": "CONFIRMED"}


async def test_a_broker_that_cannot_take_the_record_counts_the_gap_and_does_not_raise() -> None:
    # Never connected: publishing fails at once, as it does while Kafka is down.
    trail = AuditTrail(KafkaBroker("127.0.0.1:1"), Topics(), service="auth")
    before = records_lost.labels("auth", "user.sign_in_failed")._value.get()

    entry = await trail.record(
        "user.sign_in_failed", actor_email="x@example.com", outcome=AuditOutcome.FAILED
    )

    assert entry.actor_email == "x@example.com"
    assert records_lost.labels("auth", "user.sign_in_failed")._value.get() == before + 1
