"""``make restore BACKUP=<folder>``: puts a ``make backup`` folder back into the local stack.

In this order: every file is checked against the manifest's sha256 (nothing is changed when one
differs); the secrets come back first (a changed store credential needs the whole stack
stopped, and is refused where FerretDB already holds data under another password); the Order
Hub services are stopped (the channels keep running: they are the outside world); Redis's
append-only files replace its own while it is stopped; each backed-up MongoDB database is
dropped and its collections inserted again with their indexes; the PostgreSQL database is
dropped, created again and loaded from the dump; then orders starts (and migrates a dump from an
older revision), the query side is rebuilt from MongoDB so it matches the store exactly, and the
other services start. Ingest then polls from the restored cursors, so the orders the channels
created or changed since the backup arrive again. A stack that was down is stopped again.

What a restore gives up, by design: every change made in Order Hub after the backup (status
moves, users, sign-outs and revocations, audit records) is gone, unless a channel's own copy of
an order (a write-back) brings a status back when ingest reads that order again.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import bson
from bson import json_util
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument

from devstack import credentials, install, postgres
from devstack.backup import (
    FORMAT,
    MANIFEST,
    REDIS_FILES,
    mongo_client,
    owner_environment,
    progress,
    psql,
    redis_data,
    running_services,
    secrets_dir,
    sha256_of,
    stores_only,
)
from devstack.stack import Stack, local_profile

INSERT_BATCH = 1000


def verify(folder: Path) -> dict[str, Any]:
    """The manifest of ``folder`` once every part matches its size and sha256; else SystemExit."""
    path = folder / MANIFEST
    if not path.is_file():
        raise SystemExit(f"{folder} holds no {MANIFEST}: not a backup")
    manifest: dict[str, Any] = json.loads(path.read_text())
    if manifest.get("format") != FORMAT:
        raise SystemExit(f"{folder}: backup format {manifest.get('format')}, expected {FORMAT}")
    bad = []
    for part in manifest["parts"]:
        file = folder / part["file"]
        if (
            not file.is_file()
            or file.stat().st_size != part["bytes"]
            or sha256_of(file) != part["sha256"]
        ):
            bad.append(part["file"])
    if bad:
        raise SystemExit(f"{folder}: these parts do not match the manifest: {', '.join(bad)}")
    progress(f"verified {len(manifest['parts'])} parts of {folder} against {MANIFEST}")
    return manifest


# Secrets -----------------------------------------------------------------------------------------
def _changed_secrets(stack: Stack, folder: Path, manifest: dict[str, Any]) -> list[Path]:
    changed = []
    for part in manifest["parts"]:
        if part["store"] != "secrets":
            continue
        current = secrets_dir(stack) / part["name"]
        if not current.exists() or current.read_bytes() != (folder / part["file"]).read_bytes():
            changed.append(folder / part["file"])
    return changed


def _check_store_password(stack: Stack, changed: list[Path]) -> None:
    """FerretDB learns its user's password on its first start only: refuse another one for it."""
    credential_file = next((p for p in changed if p.name == credentials.FILE_NAME), None)
    if credential_file is None:
        return
    current = secrets_dir(stack) / credentials.FILE_NAME
    old = current.read_text().splitlines() if current.exists() else []
    new = credential_file.read_text().splitlines()
    changed_mongodb = {line for line in old if line.startswith("MONGODB_PASSWORD=")} != {
        line for line in new if line.startswith("MONGODB_PASSWORD=")
    }
    store_files = list((stack.profile.data_dir / "mongodb").glob("*.sqlite"))
    if changed_mongodb and store_files:
        raise SystemExit(
            "the backup's MongoDB password differs from the one the store in "
            f"{stack.profile.data_dir / 'mongodb'} was created with: restore into the stack the "
            "backup came from, or into a fresh data folder (move .data/mongodb away first)"
        )


def _restore_secrets(stack: Stack, folder: Path, manifest: dict[str, Any]) -> Stack:
    """Puts the backup's secrets back; returns the stack as they configure it."""
    changed = _changed_secrets(stack, folder, manifest)
    if not changed:
        return stack
    if stack.profile.fresh_data:
        raise SystemExit("the backup's secrets differ from this profile's fixed ones")
    _check_store_password(stack, changed)
    if stack.is_running():
        progress("the backup's secrets differ from the stack's: stopping the whole stack")
        stack.down()
    target = secrets_dir(stack)
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    for source in changed:
        shutil.copyfile(source, target / source.name)
        (target / source.name).chmod(0o600)
        progress(f"restored secret {source.name} (0600)")
    return Stack(local_profile())


# Stores ------------------------------------------------------------------------------------------
def _restore_redis(stack: Stack, folder: Path) -> None:
    stack.stop("redis")
    try:
        for name in REDIS_FILES:
            current = redis_data(stack) / name
            if current.is_dir():
                shutil.rmtree(current)
            else:
                current.unlink(missing_ok=True)
            source = folder / "redis" / name
            if source.is_dir():
                shutil.copytree(source, current)
            elif source.exists():
                shutil.copy2(source, current)
        progress(
            "restored redis: its append-only files (ingest cursors, channel records, sessions)"
        )
    finally:
        stack.start("redis")


def _restore_mongodb(stack: Stack, folder: Path, manifest: dict[str, Any]) -> None:
    parts = [p for p in manifest["parts"] if p["store"] == "mongodb"]
    options: CodecOptions[RawBSONDocument] = CodecOptions(document_class=RawBSONDocument)
    with mongo_client(stack) as client:
        for database in sorted({p["details"]["database"] for p in parts}):
            client.drop_database(database)
        for part in parts:
            details = part["details"]
            collection = client[details["database"]].create_collection(details["collection"])
            with (folder / part["file"]).open("rb") as file:
                batch: list[RawBSONDocument] = []
                for document in bson.decode_file_iter(file, options):
                    batch.append(document)
                    if len(batch) == INSERT_BATCH:
                        collection.insert_many(batch, ordered=False)
                        batch = []
                if batch:
                    collection.insert_many(batch, ordered=False)
            for spec in json_util.loads(json.dumps(details["indexes"])):
                keys = [(field, direction) for field, direction in spec.pop("key")]
                collection.create_index(keys, **spec)
            stored = collection.count_documents({})
            if stored != part["count"]:
                raise RuntimeError(f"{part['name']}: {stored} documents stored of {part['count']}")
            progress(f"restored mongodb {part['name']}: {stored:,} documents")


def _restore_postgres(stack: Stack, folder: Path, manifest: dict[str, Any]) -> None:
    part = next(p for p in manifest["parts"] if p["store"] == "postgres")
    psql(stack, f'DROP DATABASE IF EXISTS "{postgres.DATABASE}" WITH (FORCE);', database="postgres")
    # The roles and an empty database owned by the owner, as at the stack's first start; the
    # migrations run after the dump is in (an older dump is brought to this release's schema).
    stack.provision_postgres_roles()
    result = subprocess.run(
        [
            str(install.POSTGRES_BIN / "pg_restore"),
            "--no-owner",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={postgres.DATABASE}",
            str(folder / part["file"]),
        ],
        env=owner_environment(stack),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"pg_restore failed: {result.stderr.strip()}")
    stack.migrate_orders()
    for table, count in part["details"]["tables"].items():
        progress(f"restored postgres {postgres.DATABASE}.{table}: {count:,} rows")


def _rebuild_query_side(stack: Stack) -> None:
    started = time.monotonic()
    result = subprocess.run(
        [str(Path(sys.executable).with_name("orders-rebuild-query-side"))],
        env=stack.service_environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"rebuilding the query side failed:\n{result.stderr[-2000:]}")
    # Its last line says how many orders; the lines above are its log.
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else "rebuilt"
    progress(f"{summary} (from MongoDB; {time.monotonic() - started:.1f}s with its start)")


def restore(stack: Stack, folder: Path) -> Stack:
    """Restores ``folder`` into ``stack``; returns the stack (another one if secrets changed)."""
    started = time.monotonic()
    manifest = verify(folder)
    progress(
        f"restoring the backup taken at {manifest['takenAt']} (commit {manifest['orderHubCommit']}"
        f", schema {manifest['alembicRevision']}) into the {stack.profile.name} stack"
    )
    was_running = stack.is_running()
    services = running_services(stack) if was_running else []
    stack = _restore_secrets(stack, folder, manifest)
    with stores_only(stack, "restore"):
        _restore_redis(stack, folder)
        _restore_mongodb(stack, folder, manifest)
        _restore_postgres(stack, folder, manifest)
        # orders migrates a dump from an older schema; the query side then matches the store.
        stack.start("orders")
        _rebuild_query_side(stack)
        if "orders" not in services:
            stack.stop("orders")
    if was_running and not stack.is_running():
        stack.up()
    progress(f"restore done in {time.monotonic() - started:.1f}s")
    return stack
