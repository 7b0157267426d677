"""Native formats of the three simulated platforms: rendering and external id schemes."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mock_channels.formats import amazon, blinkit, website
from mock_channels.models import MockOrder
from orderhub_common.events import Channel


@dataclass(frozen=True)
class NativeFormat:
    render: Callable[[MockOrder], dict[str, Any]]
    new_external_id: Callable[[random.Random], str]


FORMATS: dict[Channel, NativeFormat] = {
    Channel.WEBSITE: NativeFormat(website.render, website.new_external_id),
    Channel.AMAZON: NativeFormat(amazon.render, amazon.new_external_id),
    Channel.BLINKIT: NativeFormat(blinkit.render, blinkit.new_external_id),
}
