"""Dead letters: ingested events that could not be processed, kept for a person.

The consumer of ``orders.ingested.v1`` dead-letters an event it can never process to
``orders.ingested.v1.dlq`` with the error in its headers (``consumers.py``). A second subscriber
keeps every dead letter in the query side's ``dead_letters`` table, where an admin (the admin
page, ``/dead-letters``) or an operator (``orders-dead-letters``) lists them with their error
and payload and resolves each once:

- **replay**: the event (as stored, or as fixed by the admin) is checked to be a valid ingested
  event and published again on ``orders.ingested.v1`` with its original key, so the ordinary
  consumer stores it; a payload that is still invalid is refused (422) and nothing is sent;
- **discard**: the dead letter is closed with a reason and nothing is sent.

Both are audited (``dead_letter.replayed``, ``dead_letter.discarded``). The one implementation
here serves the HTTP handlers and the console script alike.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from aiokafka import ConsumerRecord
from pydantic import JsonValue, ValidationError

from orderhub_common.audit import AuditTrail
from orderhub_common.events import AuditRecorded, OrderIngested
from orderhub_common.logging import utc_now
from orderhub_common.security import Principal
from orders.errors import (
    DeadLetterNotFoundError,
    DeadLetterResolvedError,
    DeadLetterStillInvalidError,
)
from orders.query_side import QuerySide
from orders.schemas import DeadLetterRead, DeadLetterState

_MAX_ERROR_HEADER_CHARS = 1000

# Publishes (payload, key) on orders.ingested.v1.
Republish = Callable[[bytes, bytes | None], Awaitable[None]]


class PoisonEventError(Exception):
    """An event that no retry can ever process."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def decode_ingested(body: bytes) -> OrderIngested:
    try:
        return OrderIngested.model_validate_json(body)
    except ValidationError as exc:
        raise PoisonEventError(_error_type(exc), _describe(exc)) from None


def decode_audit(body: bytes) -> AuditRecorded:
    try:
        return AuditRecorded.model_validate_json(body)
    except ValidationError as exc:
        error_type = "invalid_json" if "json_invalid" in str(exc) else "invalid_event"
        raise PoisonEventError(error_type, _describe(exc)) from None


def _error_type(exc: ValidationError) -> str:
    errors = exc.errors()
    if any(error["type"] == "json_invalid" for error in errors):
        return "invalid_json"
    if any(error["loc"][-1:] == ("channel",) and error["type"] == "enum" for error in errors):
        return "unknown_channel"
    return "invalid_event"


def _describe(exc: ValidationError) -> str:
    parts = [
        f"{'.'.join(str(p) for p in error['loc']) or 'event'}: {error['msg']}"
        for error in exc.errors()
    ]
    return "; ".join(parts)[:_MAX_ERROR_HEADER_CHARS]


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _storable(text: str) -> str:
    # PostgreSQL holds no NUL in text or JSONB: a dead letter carrying one (the very event that
    # could not be processed) must still be kept, or the keeper would retry it for ever.
    return text.replace("\x00", "\ufffd")


def _as_text(raw: bytes) -> str:
    return _storable(raw.decode("utf-8", "replace"))


def dead_letter_from(record: ConsumerRecord[bytes, bytes]) -> DeadLetterRead:
    """A record of the dead-letter topic as the table keeps it (bytes that are not UTF-8, and
    NULs, shown as U+FFFD)."""
    headers = {_storable(name): _as_text(value) for name, value in record.headers}
    try:
        at = datetime.fromisoformat(headers["x-dead-lettered-at"])
    except (KeyError, ValueError):
        at = utc_now()
    return DeadLetterRead(
        id=f"{record.partition}-{record.offset}",
        dead_lettered_at=at,
        error_type=headers.get("x-error-type", "unknown"),
        error=headers.get("x-error", ""),
        original_topic=headers.get("x-original-topic"),
        original_partition=_int_or_none(headers.get("x-original-partition")),
        original_offset=_int_or_none(headers.get("x-original-offset")),
        key=_as_text(record.key) if record.key is not None else None,
        headers=headers,
        payload=_as_text(record.value or b""),
        state=DeadLetterState.PENDING,
    )


class DeadLetters:
    def __init__(
        self, query_side: QuerySide, republish: Republish, audit: AuditTrail | None = None
    ) -> None:
        self._query_side = query_side
        self._republish = republish
        self._audit = audit

    async def keep(self, records: list[ConsumerRecord[bytes, bytes]]) -> int:
        return await self._query_side.keep_dead_letters([dead_letter_from(r) for r in records])

    async def page(
        self, state: DeadLetterState | None, page: int = 1, limit: int = 20
    ) -> tuple[list[DeadLetterRead], int]:
        return await self._query_side.dead_letter_page(state, page, limit)

    async def get(self, letter_id: str) -> DeadLetterRead:
        letter = await self._query_side.dead_letter(letter_id)
        if letter is None:
            raise DeadLetterNotFoundError(f"no dead letter {letter_id}")
        return letter

    async def replay(
        self,
        letter_id: str,
        *,
        actor: Principal,
        payload: str | None = None,
        client_address: str | None = None,
    ) -> DeadLetterRead:
        """Publishes the event again (or ``payload``, its fixed version) once it is valid."""
        letter = await self._pending(letter_id)
        body = (payload if payload is not None else letter.payload).encode()
        try:
            event = decode_ingested(body)
        except PoisonEventError as error:
            raise DeadLetterStillInvalidError(
                f"the event is still not a valid ingested event: {error}",
                details={"errorType": error.error_type},
            ) from None
        await self._republish(body, letter.key.encode() if letter.key is not None else None)
        resolved = await self._resolve(
            letter_id, DeadLetterState.REPLAYED, actor, "fixed payload" if payload else None
        )
        await self._record(
            "dead_letter.replayed",
            actor,
            letter_id,
            client_address,
            {
                "errorType": letter.error_type,
                "edited": payload is not None,
                "channel": event.order.channel.value,
                "externalId": event.order.external_id,
            },
        )
        return resolved

    async def discard(
        self,
        letter_id: str,
        *,
        actor: Principal,
        reason: str,
        client_address: str | None = None,
    ) -> DeadLetterRead:
        letter = await self._pending(letter_id)
        resolved = await self._resolve(letter_id, DeadLetterState.DISCARDED, actor, reason)
        await self._record(
            "dead_letter.discarded",
            actor,
            letter_id,
            client_address,
            {"errorType": letter.error_type, "reason": reason},
        )
        return resolved

    async def _pending(self, letter_id: str) -> DeadLetterRead:
        letter = await self.get(letter_id)
        if letter.state != DeadLetterState.PENDING:
            raise DeadLetterResolvedError(f"dead letter {letter_id} was already {letter.state}")
        return letter

    async def _resolve(
        self, letter_id: str, state: DeadLetterState, actor: Principal, reason: str | None
    ) -> DeadLetterRead:
        resolved = await self._query_side.resolve_dead_letter(
            letter_id, state, by=actor.user_id, reason=reason
        )
        if resolved is None:  # someone else resolved it meanwhile
            raise DeadLetterResolvedError(f"dead letter {letter_id} was already resolved")
        return resolved

    async def _record(
        self,
        action: str,
        actor: Principal,
        letter_id: str,
        client_address: str | None,
        details: dict[str, JsonValue],
    ) -> None:
        if self._audit is not None:
            await self._audit.record(
                action,
                actor=actor,
                target=letter_id,
                client_address=client_address,
                details=details,
            )
