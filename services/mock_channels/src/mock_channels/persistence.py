"""The channels' orders on disk: one SQLite file, so a restart finds every order created since
the first start, as a real channel would (``MOCK_CHANNELS_DATABASE``; unset: memory only).

The store stays in memory for its reads; every change is written through here at once, one
row per order (its whole state as JSON), plus each channel's next order number and the
write-back answers by idempotency key. Faults are not kept: a restart clears them.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from mock_channels.catalog import Buyer, LineItem
from mock_channels.models import MockOrder, Shipment
from orderhub_common.events import Channel, OrderStatus

_SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    channel TEXT NOT NULL, external_id TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (channel, external_id));
CREATE TABLE IF NOT EXISTS counters (channel TEXT PRIMARY KEY, next_number INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS write_backs (
    channel TEXT NOT NULL, key TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (channel, key));
"""


def order_to_json(order: MockOrder) -> str:
    return json.dumps(
        {
            "external_id": order.external_id,
            "number": order.number,
            "buyer": asdict(order.buyer),
            "items": [asdict(item) for item in order.items],
            "status": order.status.value,
            "placed_at": order.placed_at.isoformat(),
            "updated_at": order.updated_at.isoformat(),
            "status_times": {s.value: t.isoformat() for s, t in order.status_times.items()},
            "shipment": asdict(order.shipment) if order.shipment else None,
        }
    )


def order_from_json(text: str) -> MockOrder:
    data: dict[str, Any] = json.loads(text)
    return MockOrder(
        external_id=data["external_id"],
        number=data["number"],
        buyer=Buyer(**data["buyer"]),
        items=[LineItem(**item) for item in data["items"]],
        status=OrderStatus(data["status"]),
        placed_at=datetime.fromisoformat(data["placed_at"]),
        updated_at=datetime.fromisoformat(data["updated_at"]),
        status_times={
            OrderStatus(s): datetime.fromisoformat(t) for s, t in data["status_times"].items()
        },
        shipment=Shipment(**data["shipment"]) if data["shipment"] else None,
    )


# SQLite's own files beside the database; it creates them with the database file's mode.
_COMPANIONS = ("-wal", "-shm", "-journal")


def _owner_only(path: Path) -> None:
    """The file and its companions readable by their owner alone (0600), a folder the service
    creates for them 0700: they hold every order's buyer (names, addresses, phone numbers).

    Created 0600 before SQLite opens it, so no other user ever reads it, and an older file made
    under a looser umask is narrowed at start."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for file in (path, *(path.with_name(path.name + suffix) for suffix in _COMPANIONS)):
        if file.exists():
            file.chmod(0o600)


class ChannelDatabase:
    def __init__(self, path: Path) -> None:
        _owner_only(path)
        # One writer (the service's event loop); autocommit off, each change one transaction.
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def is_empty(self) -> bool:
        return self._db.execute("SELECT 1 FROM orders LIMIT 1").fetchone() is None

    def load_orders(self) -> dict[Channel, list[MockOrder]]:
        loaded: dict[Channel, list[MockOrder]] = {c: [] for c in Channel}
        for channel, body in self._db.execute("SELECT channel, body FROM orders"):
            loaded[Channel(channel)].append(order_from_json(body))
        return loaded

    def load_counters(self) -> dict[Channel, int]:
        rows = self._db.execute("SELECT channel, next_number FROM counters")
        return {Channel(channel): number for channel, number in rows}

    def load_write_backs(self) -> dict[Channel, list[dict[str, Any]]]:
        loaded: dict[Channel, list[dict[str, Any]]] = {c: [] for c in Channel}
        for channel, body in self._db.execute(
            "SELECT channel, body FROM write_backs ORDER BY rowid"
        ):
            loaded[Channel(channel)].append(json.loads(body))
        return loaded

    def save(
        self,
        channel: Channel,
        orders: Iterable[MockOrder],
        next_number: int | None = None,
    ) -> None:
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO orders (channel, external_id, body) VALUES (?, ?, ?)",
                [(channel.value, o.external_id, order_to_json(o)) for o in orders],
            )
            if next_number is not None:
                self._db.execute(
                    "INSERT OR REPLACE INTO counters (channel, next_number) VALUES (?, ?)",
                    (channel.value, next_number),
                )

    def save_write_back(self, channel: Channel, key: str, answer: dict[str, Any]) -> None:
        with self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO write_backs (channel, key, body) VALUES (?, ?, ?)",
                (channel.value, key, json.dumps(answer)),
            )

    def clear(self) -> None:
        with self._db:
            for table in ("orders", "counters", "write_backs"):
                self._db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names

    def close(self) -> None:
        self._db.close()
