"""A restore checks a backup against its manifest before it changes anything (issue 25, item 5):
a part that was altered, cut short or lost is named and refused. A backup waits only for the
stack's own topics to be consumed."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import pytest
from aiokafka.structs import TopicPartition

from devstack.backup import FORMAT, MANIFEST, Part, pending, sha256_of
from devstack.restore import verify

pytestmark = pytest.mark.unit


def write_backup(folder: Path) -> None:
    (folder / "mongodb").mkdir(parents=True)
    orders = folder / "mongodb" / "orderhub_orders.orders.bson"
    orders.write_bytes(b"\x05\x00\x00\x00\x00" * 3)
    part = Part(
        "mongodb",
        "orderhub_orders.orders",
        "mongodb/orderhub_orders.orders.bson",
        3,
        "documents",
        bytes=orders.stat().st_size,
        sha256=sha256_of(orders),
    )
    manifest = {"format": FORMAT, "parts": [asdict(part)]}
    (folder / MANIFEST).write_text(json.dumps(manifest))


def test_an_intact_backup_is_accepted(tmp_path: Path) -> None:
    write_backup(tmp_path)
    assert verify(tmp_path)["parts"][0]["count"] == 3


@pytest.mark.parametrize(
    "damage",
    [
        lambda path: path.write_bytes(b"\x05\x00\x00\x00\x01" * 3),  # same size, other bytes
        lambda path: path.write_bytes(path.read_bytes()[:-5]),
        lambda path: path.unlink(),
    ],
    ids=["altered", "cut short", "lost"],
)
def test_a_damaged_part_is_named_and_refused(
    tmp_path: Path, damage: Callable[[Path], object]
) -> None:
    write_backup(tmp_path)
    damage(tmp_path / "mongodb" / "orderhub_orders.orders.bson")
    with pytest.raises(SystemExit, match=re.escape("orderhub_orders.orders.bson")):
        verify(tmp_path)


def test_a_folder_without_a_manifest_is_not_a_backup(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="not a backup"):
        verify(tmp_path)


def test_a_backup_waits_for_the_stacks_topics_alone() -> None:
    # The test suites share the broker and the group id "orders" on prefixed topics of their
    # own: a record one of them left unconsumed held a backup for its whole 120 s.
    ours, unread, theirs = (
        TopicPartition("orders.ingested.v1", 0),
        TopicPartition("audit.v1", 3),
        TopicPartition("t0123456789.orders.ingested.v1", 0),
    )
    committed = {ours: 40, unread: -1, theirs: 6}
    ends = {ours: 42, unread: 5, theirs: 7}

    assert pending(committed, ends, {"orders.ingested.v1", "audit.v1"}) == 2 + 5
    assert (
        pending(committed, {**ends, ours: 40, unread: 0}, {"orders.ingested.v1", "audit.v1"}) == 0
    )
