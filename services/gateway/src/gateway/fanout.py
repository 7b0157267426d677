"""In-process fan-out of order changes to the connected SSE clients, coalesced per client.

The hub keeps the last ``replay_size`` changes in one ring, each numbered in the order it was
seen. A client holds only its place in that ring: it is sent, at most once per coalescing
interval, one message listing every change after its place, so however many orders change per
second a client receives a bounded number of messages, and a slow one costs no memory. A client
whose place left the ring (it fell that far behind, or reconnected with an id that is too old or
from another replica) is told once to refetch (a reset) and carries on from the present: caught
up, never dropped.

A place is ``<epoch>-<sequence>`` (the SSE event id): the epoch names this process, so an id from
another replica or from before a restart is recognised as one this ring cannot resume. Replicas
do not share the ring: a reconnect that reaches another replica costs that client one refetch.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import deque
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from gateway.metrics import SSE_CLIENTS, SSE_RESETS
from gateway.stream_events import OrderChange

# The most changes one message lists; a client further behind gets the rest one interval later.
MAX_CHANGES_PER_MESSAGE = 1_000


@dataclass(frozen=True)
class Batch:
    """What one client is sent next: the changes after its place, or a reset."""

    changes: list[OrderChange]
    position: str
    reset: bool = False


class Subscription:
    def __init__(self, hub: EventHub, seen: int) -> None:
        self._hub = hub
        self._seen = seen
        self._new = asyncio.Event()
        self.resumed = False

    @property
    def position(self) -> str:
        return self._hub.position_of(self._seen)

    def notify(self) -> None:
        self._new.set()

    async def next_batch(self, timeout_s: float) -> Batch:
        """The changes after this client's place (a reset if it lost its place); TimeoutError
        after ``timeout_s`` without any."""
        if self._seen >= self._hub.sequence:
            self._new.clear()
            await asyncio.wait_for(self._new.wait(), timeout_s)
        batch = self._hub.after(self._seen)
        self._seen = self._hub.sequence_of(batch.position)
        return batch


class EventHub:
    def __init__(self, replay_size: int, *, epoch: str | None = None) -> None:
        self.epoch = epoch or secrets.token_hex(4)
        self._ring: deque[OrderChange] = deque(maxlen=replay_size)
        self._sequence = 0
        self._subscriptions: set[Subscription] = set()

    @property
    def client_count(self) -> int:
        return len(self._subscriptions)

    @property
    def sequence(self) -> int:
        """The number of the last change seen."""
        return self._sequence

    @property
    def _oldest_kept(self) -> int:
        """The number of the oldest change still in the ring (sequence + 1 when it is empty)."""
        return self._sequence - len(self._ring) + 1

    def position_of(self, sequence: int) -> str:
        return f"{self.epoch}-{sequence}"

    def sequence_of(self, position: str) -> int:
        return int(position.rsplit("-", 1)[1])

    def resumable(self, last_event_id: str | None) -> int | None:
        """The sequence a client that last saw ``last_event_id`` resumes after, or None when
        this ring cannot tell what it missed."""
        epoch, _, number = (last_event_id or "").strip().rpartition("-")
        if epoch != self.epoch or not number.isdigit():
            return None
        sequence = int(number)
        if sequence > self._sequence or sequence < self._oldest_kept - 1:
            return None
        return sequence

    @asynccontextmanager
    async def subscribe(self, last_event_id: str | None = None) -> AsyncIterator[Subscription]:
        """A client's subscription: from where ``last_event_id`` left off when the ring still
        holds what came after it (``resumed``), else from now."""
        resume_after = self.resumable(last_event_id)
        subscription = Subscription(self, self._sequence if resume_after is None else resume_after)
        subscription.resumed = resume_after is not None
        self._subscriptions.add(subscription)
        SSE_CLIENTS.inc()
        try:
            yield subscription
        finally:
            self._subscriptions.discard(subscription)
            SSE_CLIENTS.dec()

    def publish(self, changes: Iterable[OrderChange]) -> None:
        added = 0
        for change in changes:
            self._ring.append(change)
            added += 1
        if not added:
            return
        self._sequence += added
        for subscription in self._subscriptions:
            subscription.notify()

    def after(self, seen: int) -> Batch:
        if seen < self._oldest_kept - 1:
            SSE_RESETS.inc()
            return Batch([], self.position_of(self._sequence), reset=True)
        start = seen - self._oldest_kept + 1
        end = min(len(self._ring), start + MAX_CHANGES_PER_MESSAGE)
        changes = [self._ring[i] for i in range(start, end)]
        return Batch(changes, self.position_of(seen + len(changes)))
