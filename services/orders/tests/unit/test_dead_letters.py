"""Dead letters, without I/O: a dead-letter record as the table keeps it, and a replay that is
checked before anything is sent, once per dead letter, audited."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka import ConsumerRecord

from orderhub_common.security import Principal, Role
from orderhub_common.testing import order_fields
from orders.dead_letters import (
    DeadLetterResolvedError,
    DeadLetters,
    DeadLetterStillInvalidError,
    dead_letter_from,
)
from orders.schemas import DeadLetterRead, DeadLetterState

pytestmark = pytest.mark.unit

ADMIN = Principal("u1", Role.ADMIN, "j", datetime.now(UTC) + timedelta(hours=1))
VALID = {"eventType": "order.ingested", "order": order_fields(external_id="X1")}


def record(value: bytes) -> ConsumerRecord[bytes, bytes]:
    headers = [
        ("x-error", b"order.customer.phone: Field required"),
        ("x-error-type", b"invalid_event"),
        ("x-original-offset", b"41"),
        ("x-dead-lettered-at", b"2026-11-30T10:00:00+00:00"),
    ]
    return ConsumerRecord(
        "orders.ingested.v1.dlq", 0, 7, 0, 0, b"website:X1", value, None, 0, 0, headers
    )


def test_a_dead_letter_record_keeps_its_error_key_and_payload() -> None:
    letter = dead_letter_from(record(b"{broken"))
    assert letter.id == "0-7"
    assert letter.error_type == "invalid_event"
    assert letter.original_offset == 41
    assert letter.key == "website:X1"
    assert letter.payload == "{broken"
    assert letter.state == DeadLetterState.PENDING


class FakeQuerySide:
    def __init__(self, letter: DeadLetterRead) -> None:
        self.letter = letter

    async def dead_letter(self, letter_id: str) -> DeadLetterRead | None:
        return self.letter if letter_id == self.letter.id else None

    async def resolve_dead_letter(
        self, letter_id: str, state: DeadLetterState, *, by: str, reason: str | None
    ) -> DeadLetterRead | None:
        if self.letter.state != DeadLetterState.PENDING:
            return None
        self.letter = self.letter.model_copy(update={"state": state, "reason": reason})
        return self.letter


class FakeAudit:
    def __init__(self) -> None:
        self.actions: list[tuple[str, dict[str, Any]]] = []

    async def record(self, action: str, **kwargs: Any) -> None:
        self.actions.append((action, kwargs))


async def test_a_replay_is_checked_sent_once_and_audited() -> None:
    query_side = FakeQuerySide(dead_letter_from(record(b"{broken")))
    sent: list[tuple[bytes, bytes | None]] = []

    async def republish(payload: bytes, key: bytes | None) -> None:
        sent.append((payload, key))

    audit = FakeAudit()
    letters = DeadLetters(query_side, republish, audit)  # type: ignore[arg-type]
    with pytest.raises(DeadLetterStillInvalidError):
        await letters.replay("0-7", actor=ADMIN)
    assert sent == []

    fixed = json.dumps(VALID)
    replayed = await letters.replay("0-7", actor=ADMIN, payload=fixed)
    assert replayed.state == DeadLetterState.REPLAYED
    assert sent == [(fixed.encode(), b"website:X1")]
    assert [action for action, _ in audit.actions] == ["dead_letter.replayed"]
    assert audit.actions[0][1]["details"]["edited"] is True

    with pytest.raises(DeadLetterResolvedError):
        await letters.discard("0-7", actor=ADMIN, reason="late")
    assert len(sent) == 1
