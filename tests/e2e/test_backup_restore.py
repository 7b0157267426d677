"""``make backup`` and ``make restore`` on the whole stack (issue 25, item 5): a restore brings
back exactly the orders of the backup with their statuses then, the query side rebuilt to
match; once ingest runs again from the restored cursors, the orders the channels created since
the backup arrive again.

Ingest is stopped across the restore (a restore leaves each service as it found it), so the
store can be compared with the backup before the channels are read again."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import MongoClient
from pymongo.collection import Collection

from devstack.backup import backup
from devstack.restore import restore
from devstack.stack import Stack

pytestmark = pytest.mark.e2e

CHANNELS = ("blinkit", "amazon")
Key = tuple[str, str]


def eventually(check: Callable[[], bool], what: str, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.5)


@pytest.fixture
def orders(stack: Stack) -> Iterator[Collection[dict[str, Any]]]:
    database = stack.profile.environment.get("ORDERS_MONGODB_DATABASE", "orderhub_orders")
    with MongoClient(stack.mongodb_url, tz_aware=True) as client:
        yield client[database]["orders"]


@pytest.fixture
def api(gateway_url: str, admin_headers: dict[str, str]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{gateway_url}/api", headers=admin_headers, timeout=30) as client:
        yield client


def create_at_channels(mock_channels_url: str, count: int) -> set[Key]:
    created: set[Key] = set()
    for channel in CHANNELS:
        response = httpx.post(
            f"{mock_channels_url}/_control/{channel}/orders", json={"count": count}, timeout=30
        )
        assert response.status_code == 200, response.text
        created |= {(channel, external_id) for external_id in response.json()["created"]}
    return created


def statuses(orders: Collection[dict[str, Any]]) -> dict[Key, str]:
    return {
        (o["channel"], o["externalId"]): o["status"]
        for o in orders.find({}, {"channel": 1, "externalId": 1, "status": 1})
    }


def stored(orders: Collection[dict[str, Any]], keys: set[Key]) -> Callable[[], bool]:
    return lambda: keys <= statuses(orders).keys()


def move(
    api: httpx.Client,
    orders: Collection[dict[str, Any]],
    mock_channels_url: str,
    key: Key,
    status: str,
) -> None:
    """A status move through the API, once stored and written back to the channel."""
    document = orders.find_one({"channel": key[0], "externalId": key[1]})
    assert document is not None
    body = {"status": status, **({"note": "the customer asked"} if status == "CANCELLED" else {})}
    response = api.patch(f"/orders/{document['_id']}/status", json=body)
    assert response.status_code == 200, response.text
    eventually(lambda: statuses(orders)[key] == status, f"{key} to be {status} in the store")
    write_backs = f"{mock_channels_url}/_control/{key[0]}/orders/{key[1]}/write-backs"
    eventually(
        lambda: status in {w["status"] for w in httpx.get(write_backs, timeout=10).json()},
        f"{key}'s move to {status} written back to its channel",
    )


def query_side_total(api: httpx.Client, **filters: str) -> int:
    response = api.get("/orders", params={"limit": 1, **filters})
    assert response.status_code == 200, response.text
    total: int = response.json()["pagination"]["total"]
    return total


def assert_query_side_matches(api: httpx.Client, expected: dict[Key, str]) -> None:
    assert query_side_total(api) == len(expected)
    for status in set(expected.values()):
        assert query_side_total(api, status=status) == list(expected.values()).count(status)


def test_a_restore_brings_back_the_backup_and_the_channels_refill_what_came_after(
    stack: Stack,
    api: httpx.Client,
    orders: Collection[dict[str, Any]],
    mock_channels_url: str,
    tmp_path: Path,
) -> None:
    seeded = create_at_channels(mock_channels_url, 4)
    eventually(stored(orders, seeded), "the seeded orders in the store")
    # Blinkit's, since its order is cancelled later: Amazon has no seller operation that cancels
    # (a person does it in Seller Central), so a cancel is never written back there.
    confirmed_before = sorted(key for key in seeded if key[0] == "blinkit")[0]
    move(api, orders, mock_channels_url, confirmed_before, "CONFIRMED")
    eventually(lambda: query_side_total(api) == len(statuses(orders)), "the query side")

    started = time.monotonic()
    manifest = backup(stack, tmp_path / "backup")
    backup_s = time.monotonic() - started
    at_backup = statuses(orders)
    assert at_backup[confirmed_before] == "CONFIRMED"
    parts = {(p["store"], p["name"]): p for p in manifest["parts"]}
    assert parts[("mongodb", "orderhub_orders.orders")]["count"] == len(at_backup)
    assert ("mongodb", "orderhub_auth.users") in parts
    assert parts[("postgres", "orderhub_orders")]["details"]["tables"]["order_rows"] == len(
        at_backup
    )
    assert {p["store"] for p in manifest["parts"]} == {"mongodb", "postgres", "redis", "secrets"}
    assert manifest["alembicRevision"]
    assert "kafka" in manifest["notIncluded"]
    folders = [tmp_path / "backup", *(p for p in (tmp_path / "backup").rglob("*") if p.is_dir())]
    assert {folder.stat().st_mode & 0o777 for folder in folders} == {0o700}
    assert all(
        (tmp_path / "backup" / p["file"]).stat().st_mode & 0o777 == 0o600 for p in parts.values()
    )
    assert json.loads((tmp_path / "backup" / "manifest.json").read_text()) == manifest

    # After the backup: new orders at the channels, and status moves of the backup's orders.
    created_after = create_at_channels(mock_channels_url, 3)
    eventually(stored(orders, created_after), "the orders created after the backup")
    created_statuses = {key: statuses(orders)[key] for key in created_after}
    moved_after = sorted(seeded - {confirmed_before})[:2]
    for key in moved_after:
        move(api, orders, mock_channels_url, key, "CONFIRMED")
    move(api, orders, mock_channels_url, confirmed_before, "CANCELLED")

    stack.stop("ingest")
    try:
        started = time.monotonic()
        restore(stack, tmp_path / "backup")
        restore_s = time.monotonic() - started
        # Exactly the orders of the backup, each with its status then, and the query side
        # rebuilt to match.
        assert statuses(orders) == at_backup
        assert_query_side_matches(api, at_backup)
    finally:
        stack.start("ingest")

    # Ingest reads the channels from the restored cursors: the orders created since come again,
    # and so do the status moves, which orders wrote back to the channels (their copy of the
    # order changed after the backup, so the channel now reports the newer status).
    everything = at_backup.keys() | created_after
    eventually(lambda: statuses(orders).keys() == everything, "the channels' newer orders")
    expected = {**at_backup, **created_statuses}
    expected |= {key: "CONFIRMED" for key in moved_after} | {confirmed_before: "CANCELLED"}
    eventually(lambda: statuses(orders) == expected, "the channels' statuses")
    eventually(
        lambda: query_side_total(api) == len(expected), "the query side to count every order"
    )
    assert_query_side_matches(api, expected)
    print(f"backup {backup_s:.1f}s, restore {restore_s:.1f}s")
