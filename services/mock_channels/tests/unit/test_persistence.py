"""The channels keep their orders across restarts (issue 14: a restart used to drop every order
created since start, so channel and Order Hub disagreed)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from mock_channels.formats import FORMATS
from mock_channels.persistence import ChannelDatabase
from mock_channels.store import ChannelStore, WriteBackRejectedError
from orderhub_common.events import Channel, OrderStatus

pytestmark = pytest.mark.unit


def test_a_restarted_channel_has_every_order_as_it_left_it(tmp_path: Path) -> None:
    path = tmp_path / "channels.sqlite3"
    first = ChannelStore(seed=5, seed_orders=20, database=ChannelDatabase(path))
    created = first.create(Channel.WEBSITE, 3)
    first.move(Channel.WEBSITE, created[0].external_id, OrderStatus.CONFIRMED)
    first.write_back(Channel.WEBSITE, created[1].external_id, OrderStatus.CONFIRMED, key="k1")
    before = {
        channel: {
            external_id: FORMATS[channel].render(first.get(channel, external_id))
            for external_id in first._orders[channel]
        }
        for channel in Channel
    }

    again = ChannelStore(seed=99, seed_orders=500, database=ChannelDatabase(path))

    for channel in Channel:
        assert again.count(channel) == first.count(channel)
        for external_id, native in before[channel].items():
            assert FORMATS[channel].render(again.get(channel, external_id)) == native
    # Order numbers go on from where they were; a repeated write-back is still a repeat.
    assert again.create(Channel.WEBSITE, 1)[0].number == created[-1].number + 1
    again.write_back(Channel.WEBSITE, created[1].external_id, OrderStatus.CONFIRMED, key="k1")
    assert len(again.applied_write_backs(Channel.WEBSITE, created[1].external_id)) == 1


def test_a_refused_write_back_stays_refused_and_reset_empties_the_disk(tmp_path: Path) -> None:
    path = tmp_path / "channels.sqlite3"
    store = ChannelStore(seed=5, seed_orders=0, database=ChannelDatabase(path))
    order = store.create(Channel.BLINKIT, 1)[0]
    with pytest.raises(WriteBackRejectedError):
        store.write_back(Channel.BLINKIT, order.external_id, OrderStatus.DELIVERED, key="x")
    restarted = ChannelStore(seed=5, seed_orders=0, database=ChannelDatabase(path))
    with pytest.raises(WriteBackRejectedError):
        restarted.write_back(Channel.BLINKIT, order.external_id, OrderStatus.DELIVERED, key="x")
    restarted.reset()
    assert (
        ChannelStore(seed=5, seed_orders=0, database=ChannelDatabase(path)).count(Channel.BLINKIT)
        == 0
    )


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The umask of a shell that makes files others can read (issue 21, finding 11)."""
    before = os.umask(0o022)
    yield
    os.umask(before)


@pytest.mark.usefixtures("loose_umask")
def test_the_database_and_its_companions_are_readable_by_their_owner_alone(
    tmp_path: Path,
) -> None:
    path = tmp_path / "mock" / "channels.sqlite3"
    store = ChannelStore(seed=5, seed_orders=20, database=ChannelDatabase(path))
    store.create(Channel.WEBSITE, 2)

    files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
    assert all(file.exists() for file in files)
    assert {file.name: _mode(file) for file in files} == {file.name: 0o600 for file in files}
    assert _mode(path.parent) == 0o700, "the folder the service made for it is its own"


@pytest.mark.usefixtures("loose_umask")
def test_a_database_left_readable_by_others_is_narrowed_at_start(tmp_path: Path) -> None:
    shared = tmp_path / "data"
    shared.mkdir(mode=0o755)
    path = shared / "channels.sqlite3"
    ChannelStore(seed=5, seed_orders=2, database=ChannelDatabase(path)).create(Channel.AMAZON, 1)
    companions = [path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
    for file in (path, *companions):
        file.chmod(0o644)

    again = ChannelStore(seed=5, seed_orders=2, database=ChannelDatabase(path))

    assert again.count(Channel.AMAZON) == 3
    assert [_mode(file) for file in (path, *companions)] == [0o600, 0o600, 0o600]
    assert _mode(shared) == 0o755, "a folder it did not make (.data/) is left as it is"
