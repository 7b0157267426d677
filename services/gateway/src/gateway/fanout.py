"""In-process fan-out of order events to the connected SSE clients.

Each client gets its own bounded queue. A client that cannot keep up is disconnected (its
EventSource reconnects and refetches), so one slow reader never holds back the others or grows
the process's memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from loguru import logger

from gateway.metrics import SSE_CLIENTS, SSE_CLIENTS_DROPPED


@dataclass(frozen=True)
class OrderEventMessage:
    """One order event as an SSE client receives it."""

    event_id: str
    event_type: str
    data: str


class Subscription:
    def __init__(self, queue_size: int) -> None:
        # None is the hub's way of saying: you were too slow, stop here.
        self._queue: asyncio.Queue[OrderEventMessage | None] = asyncio.Queue(queue_size)

    def offer(self, message: OrderEventMessage) -> bool:
        try:
            self._queue.put_nowait(message)
        except asyncio.QueueFull:
            return False
        return True

    def close(self) -> None:
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(None)

    async def receive(self, timeout_s: float) -> OrderEventMessage | None:
        """The next message (None: the hub let this client go); TimeoutError after
        ``timeout_s`` without one."""
        return await asyncio.wait_for(self._queue.get(), timeout_s)

    async def __aiter__(self) -> AsyncIterator[OrderEventMessage]:
        while (message := await self._queue.get()) is not None:
            yield message


class EventHub:
    def __init__(self, queue_size: int) -> None:
        self._queue_size = queue_size
        self._subscriptions: set[Subscription] = set()

    @property
    def client_count(self) -> int:
        return len(self._subscriptions)

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[Subscription]:
        subscription = Subscription(self._queue_size)
        self._subscriptions.add(subscription)
        SSE_CLIENTS.inc()
        try:
            yield subscription
        finally:
            self._subscriptions.discard(subscription)
            SSE_CLIENTS.dec()

    def publish(self, message: OrderEventMessage) -> None:
        for subscription in list(self._subscriptions):
            if not subscription.offer(message):
                logger.warning("an SSE client fell too far behind and was disconnected")
                SSE_CLIENTS_DROPPED.inc()
                self._subscriptions.discard(subscription)
                subscription.close()
