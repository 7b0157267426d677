"""The one interface every channel connector implements, for the poller and the Channels API.

A connector reads one page of a channel's orders at a time (``fetch``), listed by change (every
change since a time: what the poller's cursor follows) or by placement (the orders placed since a
time, each once: how new orders are found while the change feed has a backlog), in the
channel's native shape, complete enough for the channel's normalizer (an Amazon order with its
items and, where the restricted data token allows, its buyer and address). It never picks a
Kafka lane and never publishes: the poller normalizes and publishes through
``IngestedPublisher``.

``info`` says what runs (for ``GET /channels``): the connector's name, whether it talks to the
real platform or to a simulator, and its base URL (never a credential). ``check_connection``
is the admin's connection test: one cheap authenticated call, answered in plain words.

Failures are ``ChannelFeedError``s whose ``kind`` says in plain words what went wrong (an expired
or refused credential, throttling, an unreachable channel), which the Channels page shows.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from orderhub_common.events import Channel
from orderhub_common.logging import utc_now

NativeOrders = list[dict[str, Any]]


class ConnectorMode(StrEnum):
    LIVE = "live"  # the platform itself (its production or its own sandbox endpoint)
    SIMULATED = "simulated"  # Order Hub's mock channels


class ListedBy(StrEnum):
    """What a page of a channel's orders is listed by."""

    CHANGE = "change"  # each order at its latest change, oldest change first
    PLACEMENT = "placement"  # each order once, by when it was placed, oldest first


class ApiErrorKind(StrEnum):
    """What went wrong with a channel call, as the Channels page says it."""

    UNREACHABLE = "unreachable"
    UNAVAILABLE = "unavailable"
    THROTTLED = "throttled"
    EXPIRED_TOKEN = "expired_token"  # noqa: S105 - a kind of error, not a secret
    REFUSED = "refused"
    UNREADABLE = "unreadable"


PLAIN_WORDS: dict[ApiErrorKind, str] = {
    ApiErrorKind.UNREACHABLE: "the channel could not be reached",
    ApiErrorKind.UNAVAILABLE: "the channel is unavailable",
    ApiErrorKind.THROTTLED: "throttled: the channel asked us to slow down",
    ApiErrorKind.EXPIRED_TOKEN: "the access token expired or the sign-in was refused",
    ApiErrorKind.REFUSED: "the channel refused the request",
    ApiErrorKind.UNREADABLE: "the channel's answer could not be read",
}


class ChannelFeedError(Exception):
    """A channel read failed. ``retryable`` says whether asking again may help; ``kind`` says
    what happened in plain words (the message starts with them, then the details)."""

    def __init__(
        self,
        channel: Channel,
        reason: str,
        *,
        retryable: bool,
        kind: ApiErrorKind | None = None,
    ) -> None:
        self.kind = kind or (ApiErrorKind.UNAVAILABLE if retryable else ApiErrorKind.REFUSED)
        super().__init__(f"{channel}: {PLAIN_WORDS[self.kind]} ({reason})")
        self.retryable = retryable

    @classmethod
    def unreadable_page(cls, channel: Channel, exc: Exception) -> ChannelFeedError:
        """A page the channel answered but whose content could not be read: asking again for
        the same page gets the same answer, so it is not retryable."""
        return cls(
            channel, f"unreadable page: {exc!r}", retryable=False, kind=ApiErrorKind.UNREADABLE
        )


@dataclass(frozen=True)
class NativePage:
    orders: NativeOrders
    next_token: str | None


@dataclass(frozen=True)
class ConnectorInfo:
    connector: str  # which connector runs, e.g. "amazon-sp-api-orders-v0"
    mode: ConnectorMode
    endpoint: str  # base URL the connector talks to; never holds a credential
    sandbox: bool = False  # the platform's (or the simulator's) static sandbox


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    detail: str  # plain words: what worked, or what failed
    elapsed_ms: float


class ChannelConnector(ABC):
    """One channel's connection: reads pages of native orders since a time or a page token."""

    channel: Channel
    # The precision of the channel's timestamps and of its time filter (the cursor settles by it).
    resolution: timedelta

    @property
    @abstractmethod
    def info(self) -> ConnectorInfo: ...

    @abstractmethod
    async def fetch(
        self,
        *,
        since: datetime | None,
        token: str | None,
        limit: int,
        by: ListedBy = ListedBy.CHANGE,
    ) -> NativePage:
        """One page: the first one ``since`` a time (None: the beginning of the backfill the
        caller chose), listed ``by`` change or placement, or the one ``token`` names (which
        keeps the listing it began with). Raises ``ChannelFeedError``."""

    @abstractmethod
    async def close(self) -> None: ...

    async def check_connection(self) -> ConnectionCheck:
        """One authenticated read of a single recent order; subclasses may do cheaper."""
        started = time.perf_counter()
        try:
            await self.fetch(since=utc_now() - timedelta(minutes=5), token=None, limit=1)
        except ChannelFeedError as exc:
            return ConnectionCheck(False, str(exc), _ms_since(started))
        return ConnectionCheck(True, "signed in and read the order list", _ms_since(started))


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
