"""The channels keep their orders across restarts (issue 14: a restart used to drop every order
created since start, so channel and Order Hub disagreed)."""

from __future__ import annotations

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
