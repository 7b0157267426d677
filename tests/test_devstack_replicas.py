"""The local stack's second replicas (``ORDERHUB_REPLICAS``), as the stack plans them."""

from __future__ import annotations

import dataclasses
import shutil

import pytest

from devstack import profiles
from devstack.components import Site
from devstack.profiles import parse_replicas
from devstack.stack import Stack

pytestmark = pytest.mark.unit


def test_replicas_name_the_services_to_run_twice() -> None:
    assert parse_replicas("") == ()
    assert parse_replicas("1") == ()
    assert parse_replicas("2") == ("orders", "ingest")
    assert parse_replicas(" ingest ") == ("ingest",)
    assert parse_replicas("ingest,orders") == ("orders", "ingest")
    with pytest.raises(SystemExit, match="gateway cannot run a second replica"):
        parse_replicas("ingest,gateway")


def stack_with(replicas: tuple[str, ...]) -> Stack:
    return Stack(dataclasses.replace(profiles.test_profile(), replicas=replicas))


def test_a_second_ingest_replica_starts_after_the_first_on_its_own_port() -> None:
    stack = stack_with(("ingest",))
    names = [c.name for c in stack.components]
    assert names.index("ingest_2") == names.index("ingest") + 1
    assert "orders_2" not in names
    assert stack.port("ingest_2") == stack.port("ingest") + 10
    replica = next(c for c in stack.components if c.name == "ingest_2")
    site = Site(
        "ingest_2", stack.port("ingest_2"), stack.profile.ports, None, stack.run_dir, {}, False
    )
    argv = replica.argv(site)
    assert argv[:2] == ["env", f"INGEST_PORT={stack.port('ingest_2')}"]
    assert argv[-1].endswith("/ingest")


def test_a_second_orders_replica_is_refused_on_ferretdb_and_allowed_on_mongodb(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_which = shutil.which
    monkeypatch.setattr(
        shutil, "which", lambda name: None if name == "mongod" else real_which(name)
    )
    with pytest.raises(SystemExit, match=r"FerretDB 1\.24.*read-modify-write.*one update is lost"):
        stack_with(("orders",)).check_replicas()
    stack_with(("ingest",)).check_replicas()
    assert [c.name for c in stack_with(("ingest",)).components].count("orders_2") == 0

    monkeypatch.setattr(
        shutil, "which", lambda name: "/usr/bin/mongod" if name == "mongod" else real_which(name)
    )
    both = stack_with(("orders", "ingest"))
    both.check_replicas()
    names = [c.name for c in both.components]
    assert names.index("orders_2") == names.index("orders") + 1
    assert "ingest_2" in names
