"""Idempotent order writes: a write sent again with the same ``Idempotency-Key`` header (a double
click, a retry after a lost answer) is applied once, and every copy gets the first one's answer.

The key is the caller's (per user, per method and path), kept in Redis for ``KEPT_S``: first as
``pending`` while the first copy runs (``SET NX``), then as the answer. A copy that arrives while
the first still runs waits for its answer (a double click on a move then reads the move, not a
false conflict); one whose body differs from the first's is refused (422). Like the rest of the
edge's Redis, this fails open: while Redis does not answer, writes go through unguarded.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
import orjson
from loguru import logger
from redis.asyncio import Redis

from gateway.redis_outage import REDIS_FAILURES
from orderhub_common.errors import ConflictError, DomainError

HEADER = "Idempotency-Key"
# Long enough for any retry a person or a client makes; short enough to keep Redis small.
KEPT_S = 3600
# How long a copy waits for the first one's answer: the longest order write (a page's bulk move).
WAIT_S = 65.0
_POLL_S = 0.05
_PENDING = b"pending"
_KEY_SHAPE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_:.")


class IdempotencyKeyInvalidError(DomainError):
    status_code = 400
    code = "idempotency_key_invalid"


class IdempotencyKeyReusedError(DomainError):
    status_code = 422
    code = "idempotency_key_reused"


class IdempotentWriteInFlightError(ConflictError):
    code = "idempotent_write_in_flight"


@dataclass(frozen=True)
class StoredAnswer:
    status_code: int
    content_type: str | None
    body: bytes


def valid_key(value: str) -> str:
    if not 1 <= len(value) <= 200 or not set(value) <= _KEY_SHAPE:
        raise IdempotencyKeyInvalidError(
            f"{HEADER} must be 1 to 200 letters, digits or - _ : . (a UUID will do)"
        )
    return value


class IdempotentWrites:
    def __init__(self, redis: Redis, *, prefix: str = "gw:idem:") -> None:
        self._redis = redis
        self._prefix = prefix

    def _slot(self, user_id: str, method: str, path: str, key: str) -> str:
        digest = hashlib.sha256(f"{user_id}\n{method}\n{path}\n{key}".encode()).hexdigest()
        return f"{self._prefix}{digest}"

    async def once(
        self,
        *,
        user_id: str,
        method: str,
        path: str,
        key: str,
        body: bytes,
        write: Callable[[], Awaitable[httpx.Response]],
    ) -> StoredAnswer | httpx.Response:
        """The write's answer: made now by ``write``, or the first copy's, replayed."""
        slot = self._slot(user_id, method, path, valid_key(key))
        fingerprint = hashlib.sha256(body).hexdigest()
        try:
            claimed = await self._redis.set(
                slot, _PENDING + b":" + fingerprint.encode(), nx=True, ex=KEPT_S
            )
        except REDIS_FAILURES as exc:
            logger.warning(f"idempotency keys unavailable, the write goes through: {exc!r}")
            return await write()
        if not claimed:
            return await self._replayed(slot, fingerprint)
        try:
            answer = await write()
        except BaseException:
            # Unanswered: the caller may try again with the same key.
            await self._forget(slot)
            raise
        stored = {
            "fingerprint": fingerprint,
            "status": answer.status_code,
            "contentType": answer.headers.get("content-type"),
            "body": base64.b64encode(answer.content).decode(),
        }
        try:
            await self._redis.set(slot, orjson.dumps(stored), ex=KEPT_S)
        except REDIS_FAILURES as exc:
            logger.warning(f"idempotent answer not kept: {exc!r}")
        return answer

    async def _forget(self, slot: str) -> None:
        try:
            await self._redis.delete(slot)
        except REDIS_FAILURES as exc:
            logger.warning(f"idempotency key not released: {exc!r}")

    async def _replayed(self, slot: str, fingerprint: str) -> StoredAnswer:
        deadline = time.monotonic() + WAIT_S
        while True:
            held = await self._redis.get(slot)
            if held is None:
                # The first copy went unanswered and released the key: this one may try again.
                raise IdempotentWriteInFlightError(
                    "the first request with this Idempotency-Key failed; send it again"
                )
            if isinstance(held, str):
                held = held.encode()
            if held.startswith(_PENDING):
                if held[len(_PENDING) + 1 :].decode() != fingerprint:
                    raise _reused()
                if time.monotonic() > deadline:
                    raise IdempotentWriteInFlightError(
                        "the first request with this Idempotency-Key is still running"
                    )
                await asyncio.sleep(_POLL_S)
                continue
            stored = orjson.loads(held)
            if stored["fingerprint"] != fingerprint:
                raise _reused()
            return StoredAnswer(
                stored["status"], stored["contentType"], base64.b64decode(stored["body"])
            )


def _reused() -> IdempotencyKeyReusedError:
    return IdempotencyKeyReusedError(
        f"this {HEADER} was used for another request; use a new key for a new request"
    )
