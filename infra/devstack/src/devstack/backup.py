"""``make backup``: a consistent copy of the local stack's state, and a manifest of what it holds.

What is copied, each as one or more parts of the backup folder:

- MongoDB, the system of record: every collection of every Order Hub database (orders, users,
  the outbox, the pending channel write-backs, ...) as a file of BSON documents, read through
  the wire protocol (so the same code works on FerretDB and on a real ``mongod``), with its
  indexes in the manifest;
- PostgreSQL: the whole ``orderhub_orders`` database (``pg_dump`` custom format, as its owner):
  the audit records, saved views, jobs and dead letters, which nothing can rebuild, and the query
  side, which the restore rebuilds from MongoDB anyway;
- Redis: its append-only files, copied while it is stopped: ingest's cursors and each channel's
  status and last good page, auth's refresh sessions and revocations;
- the secrets (``<data>/secrets``: store credentials, the export link key, the JWT keys).

Not copied: Kafka (the outbox in MongoDB holds every order event not yet published, the
ingest cursors make the channels' newer orders arrive again, and the orders consumer is drained
before the copy, see below), the mock channels' own store (they stand for the outside world),
logs.

Consistency: FerretDB has neither snapshots nor transactions, so the copy is taken with every
Order Hub service stopped (the gateway, ingest and auth first, then orders once it has consumed
everything they published: its consumer groups' lag is 0), so no store changes while it is read
and the stores agree with one another (a cursor never points past an order the store lacks).
The API is unavailable for that time (seconds for a development data set); the services that
were running are started again afterwards, and a stack that was down is stopped again.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pymongo
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from bson import json_util
from bson.raw_bson import RawBSONDocument

from devstack import install, postgres
from devstack.components import runs_ferretdb
from devstack.stack import Stack

FORMAT = 1
MANIFEST = "manifest.json"
# Databases of the store itself, never Order Hub's.
SYSTEM_DATABASES = frozenset({"admin", "config", "local"})
# The consumer groups that write what other services publish into the stores.
DRAINED_GROUPS = ("orders", "orders-history", "orders-dead-letters")
# The stack's own topics (CONTRACT section 5, after the stack's KAFKA_TOPIC_PREFIX): test suites
# that share the broker use the same group ids on topics of their own prefix, which a backup
# neither waits for nor copies.
STACK_TOPICS = (
    "orders.ingested.v1",
    "orders.ingested.history.v1",
    "orders.ingested.v1.dlq",
    "audit.v1",
    "audit.v1.dlq",
)
# The channels stand for the outside world: a backup neither stops nor copies them.
CHANNELS = "mock_channels"
NOT_INCLUDED = {
    "kafka": "not copied: the outbox (MongoDB) holds the order events not yet published, the "
    "orders consumer was drained before the copy, and the ingest cursors make the channels' "
    "orders newer than the backup arrive again after a restore",
    "mock_channels": "not copied: the channels stand for the outside world",
    "logs": "not copied",
}


def progress(message: str) -> None:
    print(f"==> {message}", flush=True)


@dataclass
class Part:
    """One file of the backup: what it holds and how to check it is intact."""

    store: str
    name: str
    file: str
    count: int | None
    unit: str
    bytes: int = 0
    sha256: str = ""
    details: dict[str, Any] = field(default_factory=dict)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _seal(part: Part, folder: Path) -> Part:
    path = folder / part.file
    path.chmod(0o600)
    part.bytes = path.stat().st_size
    part.sha256 = sha256_of(path)
    return part


def _private_folder(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


# Which services run, and stopping them so nothing writes ------------------------------------------
def running_services(stack: Stack) -> list[str]:
    """The Order Hub services supervisord runs now (the channels aside), in start order."""
    if not stack.is_running():
        return []
    running = {
        line.split()[0]
        for line in stack.supervisor.status().splitlines()
        if len(line.split()) > 1 and line.split()[1] == "RUNNING"
    }
    return [
        c.name
        for c in stack.components
        if c.is_service and c.name != CHANNELS and c.name in running
    ]


def _is_consumer(name: str) -> bool:
    return name.split("_")[0] == "orders"


@contextlib.contextmanager
def stores_only(stack: Stack, action: str) -> Iterator[None]:
    """Inside: the stores run and no Order Hub service does. After: the stack as it was."""
    was_running = stack.is_running()
    services = running_services(stack)
    if not was_running:
        progress(f"the stack is down: starting its stores for the {action}")
        stack.ensure_infra_running()
    elif services:
        progress(f"stopping the Order Hub services for the {action} (the API is unavailable)")
    try:
        for name in reversed([s for s in services if not _is_consumer(s)]):
            stack.stop(name)
        consumers = [s for s in services if _is_consumer(s)]
        if consumers:
            # What the stopped services published is stored before the consumer stops.
            drained = asyncio.run(_drain(stack))
            progress(f"orders consumed everything published ({drained} records were pending)")
        for name in reversed(consumers):
            stack.stop(name)
        yield
    finally:
        if not was_running:
            stack.down()
        else:
            start_together(stack, services)


def start_together(stack: Stack, services: list[str]) -> None:
    """Starts ``services`` at once and waits until each is ready: each waits for what it needs
    by itself, and one after the other would take a minute."""
    if services:
        progress(f"starting {', '.join(services)} again")
    for name in services:
        stack.supervisor.start(name)
    for name in services:
        stack.wait_ready(name)


def pending(
    committed: dict[TopicPartition, int], ends: dict[TopicPartition, int], topics: set[str]
) -> int:
    """Records of ``topics`` a group has not consumed yet (a partition never committed counts
    from its start); other topics' partitions are not the stack's and do not count."""
    return sum(
        max(0, ends[tp] - max(offset, 0)) for tp, offset in committed.items() if tp.topic in topics
    )


async def _drain(stack: Stack, timeout_s: float = 120) -> int:
    """Waits until the orders consumer groups have consumed every record; returns how many were
    pending at first. The broker's own user reads the groups' offsets."""
    env = stack.kafka_environment()
    prefix = stack.profile.environment.get("KAFKA_TOPIC_PREFIX", "")
    topics = {f"{prefix}{name}" for name in STACK_TOPICS}
    # SASL/PLAIN without TLS on the loopback broker: its warning says nothing new at each run.
    logging.getLogger("aiokafka").setLevel(logging.ERROR)
    options: dict[str, Any] = {
        "bootstrap_servers": env["KAFKA_BOOTSTRAP_SERVERS"],
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "PLAIN",
        "sasl_plain_username": env["KAFKA_SASL_USERNAME"],
        "sasl_plain_password": env["KAFKA_SASL_PASSWORD"],
    }
    admin = AIOKafkaAdminClient(**options)
    consumer = AIOKafkaConsumer(enable_auto_commit=False, **options)
    await admin.start()
    await consumer.start()
    try:
        first: int | None = None
        deadline = time.monotonic() + timeout_s
        while True:
            lag = 0
            for group in DRAINED_GROUPS:
                committed = {
                    tp: meta.offset
                    for tp, meta in (await admin.list_consumer_group_offsets(group)).items()
                    if isinstance(tp, TopicPartition)
                }
                ends = await consumer.end_offsets(list(committed)) if committed else {}
                lag += pending(committed, ends, topics)
            first = lag if first is None else first
            if lag == 0:
                return first
            if time.monotonic() > deadline:
                raise SystemExit(f"orders did not consume {lag} pending records in {timeout_s}s")
            await asyncio.sleep(0.5)
    finally:
        await consumer.stop()
        await admin.close()


# MongoDB -----------------------------------------------------------------------------------------
def mongo_client(stack: Stack) -> pymongo.MongoClient[RawBSONDocument]:
    return pymongo.MongoClient(stack.mongodb_url, document_class=RawBSONDocument)


def _index_specs(collection: Any) -> list[dict[str, Any]]:
    specs = []
    for name, info in collection.index_information().items():
        if name == "_id_":
            continue
        options = {k: v for k, v in info.items() if k not in ("v", "key", "ns")}
        specs.append({"name": name, "key": [list(pair) for pair in info["key"]], **options})
    # Extended JSON, so an option holding a BSON type (a date, say) comes back as itself.
    loaded: list[dict[str, Any]] = json.loads(json_util.dumps(specs))
    return loaded


def _dump_mongodb(stack: Stack, folder: Path) -> list[Part]:
    parts = []
    _private_folder(folder / "mongodb")
    with mongo_client(stack) as client:
        for database in sorted(set(client.list_database_names()) - SYSTEM_DATABASES):
            for name in sorted(client[database].list_collection_names()):
                if name.startswith("system."):
                    continue
                collection = client[database][name]
                part = Part(
                    "mongodb",
                    f"{database}.{name}",
                    f"mongodb/{database}.{name}.bson",
                    0,
                    "documents",
                )
                with (folder / part.file).open("wb") as file:
                    for document in collection.find(batch_size=1000):
                        file.write(document.raw)
                        part.count = (part.count or 0) + 1
                part.details = {
                    "database": database,
                    "collection": name,
                    "indexes": _index_specs(collection),
                }
                parts.append(_seal(part, folder))
                progress(f"backing up mongodb {part.name}: {part.count:,} documents")
    return parts


# PostgreSQL --------------------------------------------------------------------------------------
def owner_environment(stack: Stack) -> dict[str, str]:
    """libpq's variables for the database's owner (the password never on a command line)."""
    env = stack.profile.environment
    return {
        **os.environ,
        "PGHOST": "127.0.0.1",
        "PGPORT": str(stack.port("postgres")),
        "PGUSER": postgres.OWNER,
        "PGPASSWORD": env[postgres.OWNER_PASSWORD_VARIABLE],
        "PGDATABASE": postgres.DATABASE,
    }


def psql(stack: Stack, sql: str, database: str = postgres.DATABASE) -> list[str]:
    result = subprocess.run(
        [
            str(install.POSTGRES_BIN / "psql"),
            "-X",
            "-q",
            "-At",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            database,
        ],
        input=sql,
        env=owner_environment(stack),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"psql failed: {result.stderr.strip()}")
    return result.stdout.splitlines()


def alembic_revision(stack: Stack) -> str | None:
    exists = psql(stack, "SELECT to_regclass('public.alembic_version') IS NOT NULL;")
    if exists != ["t"]:
        return None
    revision = psql(stack, "SELECT version_num FROM alembic_version;")
    return revision[0] if revision else None


def table_counts(stack: Stack) -> dict[str, int]:
    """Each table's rows, counted in one query (the names quoted by the server, ``%I``)."""
    rows = psql(
        stack,
        "SELECT tablename, (xpath('/row/c/text()', query_to_xml(format("
        "'SELECT count(*) AS c FROM public.%I', tablename), false, true, '')))[1]::text "
        "FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename;",
    )
    return {table: int(count) for table, _, count in (row.partition("|") for row in rows)}


def _dump_postgres(stack: Stack, folder: Path) -> list[Part]:
    _private_folder(folder / "postgres")
    part = Part("postgres", postgres.DATABASE, f"postgres/{postgres.DATABASE}.dump", None, "rows")
    result = subprocess.run(
        [str(install.POSTGRES_BIN / "pg_dump"), "--format=custom", f"--file={folder / part.file}"],
        env=owner_environment(stack),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"pg_dump failed: {result.stderr.strip()}")
    counts = table_counts(stack)
    part.count = sum(counts.values())
    part.details = {"tables": counts}
    for table, count in counts.items():
        progress(f"backing up postgres {postgres.DATABASE}.{table}: {count:,} rows")
    return [_seal(part, folder)]


# Redis and the secrets: files --------------------------------------------------------------------
def redis_data(stack: Stack) -> Path:
    return stack.profile.data_dir / "redis"


# What Redis keeps on disk (the ACL file is written from the credentials at every start).
REDIS_FILES = ("appendonlydir", "dump.rdb")


def _copy_redis(stack: Stack, folder: Path) -> list[Part]:
    """Redis's files, copied while it is stopped: stopping flushes the append-only file."""
    target = _private_folder(folder / "redis")
    progress("stopping redis for the copy of its append-only files")
    stack.stop("redis")
    try:
        for name in REDIS_FILES:
            source = redis_data(stack) / name
            if source.is_dir():
                shutil.copytree(source, target / name)
                (target / name).chmod(0o700)
            elif source.exists():
                shutil.copy2(source, target / name)
    finally:
        stack.start("redis")
    parts = []
    for path in sorted(p for p in target.rglob("*") if p.is_file()):
        part = _seal(Part("redis", path.name, str(path.relative_to(folder)), None, "bytes"), folder)
        parts.append(part)
        progress(f"backing up redis {path.name}: {part.bytes:,} bytes")
    return parts


def secrets_dir(stack: Stack) -> Path:
    return stack.profile.data_dir / "secrets"


def _copy_secrets(stack: Stack, folder: Path) -> list[Part]:
    target = _private_folder(folder / "secrets")
    parts = []
    for path in sorted(p for p in secrets_dir(stack).glob("*") if p.is_file()):
        shutil.copyfile(path, target / path.name)
        parts.append(
            _seal(Part("secrets", path.name, f"secrets/{path.name}", None, "file"), folder)
        )
        progress(f"backing up secret {path.name} (0600)")
    return parts


# The backup --------------------------------------------------------------------------------------
def git_commit() -> str:
    result = subprocess.run(
        ["git", "describe", "--always", "--dirty", "--abbrev=40"],
        cwd=install.REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() or "unknown"


def default_folder(stack: Stack) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return stack.profile.data_dir / "backups" / stamp


def backup(stack: Stack, folder: Path) -> dict[str, Any]:
    """Writes a backup of ``stack`` into ``folder`` (new, 0700) and returns its manifest."""
    if folder.exists() and any(folder.iterdir()):
        raise SystemExit(f"{folder} exists and is not empty: name a new folder")
    _private_folder(folder.parent)
    _private_folder(folder)
    started = time.monotonic()
    progress(f"backing up the {stack.profile.name} stack into {folder}")
    with stores_only(stack, "backup"):
        taken_at = datetime.now(UTC)
        parts = _dump_mongodb(stack, folder)
        revision = alembic_revision(stack)
        parts += _dump_postgres(stack, folder)
        parts += _copy_redis(stack, folder)
        parts += _copy_secrets(stack, folder)
    manifest = {
        "format": FORMAT,
        "takenAt": taken_at.isoformat(),
        "profile": stack.profile.name,
        "orderHubCommit": git_commit(),
        "alembicRevision": revision,
        "store": "ferretdb"
        if runs_ferretdb() and not stack.profile.external_mongodb_url
        else "mongodb",
        "consistency": "taken with every Order Hub service stopped, after orders consumed all "
        "that was published: no store changed during the copy",
        "parts": [asdict(part) for part in parts],
        "notIncluded": NOT_INCLUDED,
        "durationS": round(time.monotonic() - started, 1),
    }
    path = folder / MANIFEST
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    path.chmod(0o600)
    progress(f"backup done in {manifest['durationS']}s: {folder} ({len(parts)} parts, {MANIFEST})")
    return manifest
