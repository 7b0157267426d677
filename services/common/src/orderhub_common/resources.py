"""Named external dependencies with one lifecycle: connect at start, ping for readiness, close.

A service lists its resources; the app factory connects them in order with retries and clear log
lines (graceful start), exposes their pings at ``/readyz``, and closes them in reverse order
(graceful stop). Redis, MongoDB and Kafka are here; service-specific workers are ``Worker``s.

A resource is required unless the service, where it lists it, declares the documented mode it
serves in without it (``degrades_to``, per docs/FAULTS.md): readiness then stays 200 while that
dependency is away, and the outage shows in ``/readyz``'s body and ``orderhub_dependency_up``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

from beanie import Document, init_beanie
from faststream.kafka import KafkaBroker
from pymongo import AsyncMongoClient
from pymongo.errors import ServerSelectionTimeoutError
from redis.asyncio import Redis


class UnusableResourceError(Exception):
    """The dependency answers, but this release cannot work with it as it is (a schema older
    than it needs): trying again will not help, so the service stops at once, saying why."""


class Resource:
    """Something the service needs from outside. Subclasses implement the three steps."""

    name: str = "resource"
    target: str = ""
    # The documented mode this service serves in while the dependency is away; None: required.
    degraded_mode: str | None = None

    def degrades_to(self, mode: str) -> Self:
        """Declares this dependency degradable for the service that lists it, and how."""
        self.degraded_mode = mode
        return self

    async def connect(self) -> None:
        raise NotImplementedError

    async def ping(self) -> None:
        """Raises if the dependency does not answer right now."""
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError


def raise_if_store_known_down(client: AsyncMongoClient[Any]) -> None:
    """Fails at once (``ServerSelectionTimeoutError``: a store outage, 503 by the one rule)
    while the client's monitor knows of no server to write to, instead of spending the whole
    operation timeout on server selection and retries: a caller learns of an outage in
    milliseconds, and the service holds no pile of waiting calls."""
    if not client.topology_description.has_writable_server():
        raise ServerSelectionTimeoutError("the store is not answering (known down)")


class MongoResource(Resource):
    name = "mongodb"

    def __init__(
        self,
        url: str,
        database: str,
        documents: Sequence[type[Document]],
        *,
        timeout_s: float = 3,
        operation_timeout_s: float = 5,
        max_connections: int = 20,
    ) -> None:
        self.target = database
        self.client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            url,
            serverSelectionTimeoutMS=int(timeout_s * 1000),
            connectTimeoutMS=int(timeout_s * 1000),
            # Every operation ends by this deadline, on the server too (maxTimeMS): a store
            # call nobody waits for any more stops instead of keeping the store busy.
            timeoutMS=int(operation_timeout_s * 1000),
            maxPoolSize=max_connections,
            # Checked every second, so a store that is back is seen at once by callers that
            # were answered fast while it was away (``raise_if_store_known_down``).
            heartbeatFrequencyMS=1000,
            tz_aware=True,
            uuidRepresentation="standard",
        )
        self.database = self.client[database]
        self.documents = list(documents)

    async def connect(self) -> None:
        await self.ping()
        await init_beanie(database=self.database, document_models=self.documents, skip_indexes=True)
        for document in self.documents:
            await self._sync_indexes(document)

    @staticmethod
    async def _sync_indexes(document: type[Document]) -> None:
        """Makes a collection's indexes the declared ``Settings.indexes``: drops the ones no
        longer declared (every index slows every write, and on FerretDB serves no query) and
        creates the missing ones, one command per index.

        Beanie re-sends every declared index in one ``createIndexes`` at each start; FerretDB 1.24
        crashes the connection on such a batch once the indexes exist, so a restarted service
        could never come back. Declare every index in ``Settings.indexes`` (not ``Indexed()``).
        """
        collection = document.get_pymongo_collection()
        existing = set((await collection.index_information()).keys())
        # Beanie has already wrapped each declared index in an IndexModelField.
        declared = {index.name: index for index in document.get_settings().indexes or []}
        for name in sorted(existing - set(declared) - {"_id_"}):
            await collection.drop_index(name)
        for name, index in declared.items():
            if name not in existing:
                await collection.create_indexes([index.index])

    async def ping(self) -> None:
        await self.client.admin.command("ping")

    async def close(self) -> None:
        await self.client.close()


def redis_connection_options(timeout_s: float) -> dict[str, Any]:
    """How every service connects to Redis. No CLIENT SETINFO on connect: the services' ACL
    user may run their own commands alone (``devstack.credentials.REDIS_APP_COMMANDS``), and a
    refused SETINFO, which redis-py ignores, would fill Redis's ACL log at every connection."""
    return {
        "decode_responses": True,
        "socket_timeout": timeout_s,
        "socket_connect_timeout": timeout_s,
        "health_check_interval": 15,
        "driver_info": None,
    }


class RedisResource(Resource):
    name = "redis"

    def __init__(self, url: str, *, timeout_s: float = 2) -> None:
        self.client: Redis = Redis.from_url(url, **redis_connection_options(timeout_s))

    async def connect(self) -> None:
        await self.ping()

    async def ping(self) -> None:
        await self.client.ping()

    async def close(self) -> None:
        await self.client.aclose()


class KafkaResource(Resource):
    """The service's FastStream broker: starting it also starts its subscribers."""

    name = "kafka"

    def __init__(
        self,
        broker: KafkaBroker,
        *,
        before_start: Callable[[], Awaitable[None]] | None = None,
        timeout_s: float = 3,
    ) -> None:
        self.broker = broker
        self.before_start = before_start
        self.timeout_s = timeout_s

    async def connect(self) -> None:
        if self.before_start is not None:
            await self.before_start()
        await self.broker.start()

    async def ping(self) -> None:
        if not await self.broker.ping(timeout=self.timeout_s):
            raise ConnectionError("no Kafka broker answered")

    async def close(self) -> None:
        # Stops consumers first, waits for in-flight handlers (graceful_timeout), then producers.
        await self.broker.stop()


@dataclass
class Worker:
    """A background loop of the service (a poller, a relay), started after every resource."""

    name: str
    run: Callable[[], Coroutine[Any, Any, None]]
    task: asyncio.Task[None] | None = field(default=None, init=False)


# pymongo's async driver can swallow a cancellation: with pymongo 4.20 against the local store,
# 13 of 300 cancelled find_one_and_update calls returned normally, and a loop around them ran on
# (the task still counts the cancellation as pending). So a stop cancels again until it lands.
_RECANCEL_INTERVAL_S = 0.25


async def stop_tasks(
    tasks: Collection[asyncio.Task[Any]], timeout_s: float
) -> set[asyncio.Task[Any]]:
    """Cancels the tasks and waits up to ``timeout_s`` for them to end, cancelling any still
    running again every quarter second; returns those that did not end."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    running = {task for task in tasks if not task.done()}
    while running:
        for task in running:
            task.cancel()
        left = deadline - loop.time()
        if left <= 0:
            break
        _, running = await asyncio.wait(running, timeout=min(_RECANCEL_INTERVAL_S, left))
    return running
