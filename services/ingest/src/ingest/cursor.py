"""Where a channel's polling stands, so a restart neither misses nor re-reads everything.

Feeds filter on "updated at or after" a time, at their own precision (Shopify and Amazon in
seconds), so several orders can share the newest time seen. The cursor keeps that time and a
fingerprint of each order published at exactly that time: the next poll skips those unless they
changed, and a change inside the same second is still seen. A poll that stopped between pages
resumes from the channel's page token.

Once the newest time unit (a second, for those feeds) is surely over (read well after it ended,
by ``grace``), the cursor steps past it and forgets its fingerprints, so a burst of orders in
one second is not read again on every poll. ``grace`` covers clock skew and write delays at the
channel.

A native order that cannot be normalized does not move the time position: if it is the newest
one, the next poll reads it again (it is skipped and counted again) until a newer order arrives.

``PlacementCursor`` is the same over placement times, for a channel's orders listed by when they
were placed (how the poller finds new orders while the change feed has a backlog).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Self

from pydantic import AliasChoices, AwareDatetime, BaseModel, Field

from orderhub_common.events import ChannelOrder


def fingerprint(order: ChannelOrder) -> str:
    return hashlib.sha256(order.model_dump_json().encode()).hexdigest()[:16]


class FeedCursor(BaseModel):
    # The newest change time published ("updated_since" in cursors saved by earlier releases).
    since: AwareDatetime | None = Field(
        None, validation_alias=AliasChoices("since", "updated_since")
    )
    published_at_since: dict[str, str] = Field(default_factory=dict)  # externalId -> fingerprint
    page_token: str | None = None

    @staticmethod
    def time_of(order: ChannelOrder) -> datetime:
        """The time the feed lists ``order`` by."""
        return order.updated_at

    def is_news(self, order: ChannelOrder) -> bool:
        """False for what the cursor says was already published, as it is now."""
        at = self.time_of(order)
        if self.since is None or at > self.since:
            return True
        if at < self.since:
            return False
        return self.published_at_since.get(order.external_id) != fingerprint(order)

    def advanced(self, orders: Sequence[ChannelOrder], next_token: str | None) -> Self:
        """The cursor once ``orders`` (one page) are safely published."""
        since = self.since
        at_since = dict(self.published_at_since)
        for order in orders:
            at = self.time_of(order)
            if since is None or at > since:
                since, at_since = at, {}
            if at == since:
                at_since[order.external_id] = fingerprint(order)
        return type(self)(since=since, published_at_since=at_since, page_token=next_token)

    def settled(self, *, read_at: datetime, resolution: timedelta, grace: timedelta) -> Self:
        """Steps past the newest time unit once nothing more can appear in it."""
        if self.page_token or self.since is None or not self.published_at_since:
            return self
        if read_at < self.since + resolution + grace:
            return self
        return type(self)(since=self.since + resolution)


class PlacementCursor(FeedCursor):
    """Where the look for new orders stands: the newest placement time published."""

    @staticmethod
    def time_of(order: ChannelOrder) -> datetime:
        return order.placed_at
