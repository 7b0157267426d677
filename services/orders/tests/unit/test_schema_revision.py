"""What orders does at start with the query side's schema revision: it works on its own
release's, refuses an older one (the migration step has not run) saying what to run, and starts
on one it does not know (a later release's: it was rolled back, and every migration keeps the
release before it working). Refusing is final: the start-up does not retry it for a minute."""

from __future__ import annotations

import time

import pytest

from orderhub_common.app import connect_with_retries
from orderhub_common.resources import Resource, UnusableResourceError
from orders.schema import SchemaBehindError, check_revision, migration_scripts

pytestmark = pytest.mark.unit

SCRIPTS = migration_scripts()
HEAD = SCRIPTS.get_current_head()
REVISIONS = [script.revision for script in SCRIPTS.walk_revisions()]  # newest first


def test_the_releases_own_revision_starts_quietly() -> None:
    assert check_revision(HEAD, SCRIPTS) is None


@pytest.mark.parametrize("current", REVISIONS[1:])
def test_an_older_revision_is_refused_saying_what_to_run(current: str) -> None:
    with pytest.raises(SchemaBehindError) as refused:
        check_revision(current, SCRIPTS)

    assert str(refused.value) == (
        f"the query side's schema is at revision {current}, this release needs {HEAD}: "
        "run orders-migrate (as the schema's owner) before starting orders"
    )


def test_a_database_never_migrated_is_refused() -> None:
    with pytest.raises(SchemaBehindError, match=r"not migrated \(no revision\).*orders-migrate"):
        check_revision(None, SCRIPTS)


def test_a_later_releases_revision_starts_and_says_so() -> None:
    note = check_revision("0042_from_a_later_release", SCRIPTS)

    assert note is not None
    assert "0042_from_a_later_release" in note
    assert "does not know" in note


class _Refusing(Resource):
    name = "postgres"

    def __init__(self) -> None:
        self.tries = 0

    async def connect(self) -> None:
        self.tries += 1
        raise SchemaBehindError("0006_order_day_counts", str(HEAD))


async def test_a_refused_schema_stops_the_start_at_once_instead_of_retrying() -> None:
    resource = _Refusing()
    started = time.monotonic()

    with pytest.raises(UnusableResourceError, match="run orders-migrate"):
        await connect_with_retries(resource, timeout_s=30)

    assert resource.tries == 1
    assert time.monotonic() - started < 5
