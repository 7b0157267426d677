"""What an operator does with ingestion: reads each channel's state, pauses and resumes one.

A pause stops that channel's poller before its next poll (the cursor stays where it stands, so a
resume picks up every order placed meanwhile, once). Pauses and resumes are kept in Redis, so
they hold across restarts and replicas, and override ``INGEST_PAUSED_CHANNELS`` (the channels
that start paused). Every pause and resume is recorded in the audit log.
"""

from __future__ import annotations

from ingest.repository import ChannelRepository
from ingest.schemas import ChannelStatus
from orderhub_common.audit import AuditTrail
from orderhub_common.events import Channel
from orderhub_common.security import Principal


class ChannelService:
    def __init__(
        self,
        repository: ChannelRepository,
        trail: AuditTrail,
        *,
        paused_by_config: frozenset[Channel],
    ) -> None:
        self.repository = repository
        self.trail = trail
        self.paused_by_config = paused_by_config

    async def statuses(self) -> list[ChannelStatus]:
        # Redis not answering is 503 by orderhub_common's one rule for store outages.
        return await self.repository.statuses(self.paused_by_config)

    async def set_paused(
        self,
        channel: Channel,
        paused: bool,
        *,
        actor: Principal,
        client_address: str | None,
    ) -> ChannelStatus:
        was_paused = await self.repository.is_paused(
            channel, by_config=channel in self.paused_by_config
        )
        await self.repository.set_paused(channel, paused)
        await self.trail.record(
            "channel.paused" if paused else "channel.resumed",
            actor=actor,
            target=str(channel),
            client_address=client_address,
            details={"wasPaused": was_paused},
        )
        [status] = [s for s in await self.statuses() if s.channel == channel]
        return status
