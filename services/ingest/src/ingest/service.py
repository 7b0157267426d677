"""What an operator does with ingestion: reads each channel's state, pauses and resumes one.

A pause stops that channel's poller before its next poll (the cursor stays where it stands, so a
resume picks up every order placed meanwhile, once). Pauses and resumes are kept in Redis, so
they hold across restarts and replicas, and override ``INGEST_PAUSED_CHANNELS`` (the channels
that start paused). Every pause and resume is recorded in the audit log.
"""

from __future__ import annotations

from collections.abc import Callable

from ingest.connectors.base import ChannelConnector, ConnectorInfo
from ingest.repository import ChannelRepository
from ingest.schemas import ChannelConnection, ChannelStatus, ConnectionTestResult
from orderhub_common.audit import AuditTrail
from orderhub_common.events import Channel
from orderhub_common.logging import utc_now
from orderhub_common.security import Principal

ConnectorFactory = Callable[[Channel], ChannelConnector]


class ChannelService:
    def __init__(
        self,
        repository: ChannelRepository,
        trail: AuditTrail,
        *,
        paused_by_config: frozenset[Channel],
        connectors: ConnectorFactory | None = None,
    ) -> None:
        self.repository = repository
        self.trail = trail
        self.paused_by_config = paused_by_config
        self.connectors = connectors
        self._connections: dict[Channel, ChannelConnection] = {}

    async def statuses(self) -> list[ChannelStatus]:
        # Redis not answering is 503 by orderhub_common's one rule for store outages.
        statuses = await self.repository.statuses(self.paused_by_config)
        return [
            status.model_copy(update={"connection": await self.connection(status.channel)})
            for status in statuses
        ]

    async def connection(self, channel: Channel) -> ChannelConnection | None:
        """Which connector the channel runs (from the settings: built once, asked, closed)."""
        if self.connectors is None:
            return None
        if channel not in self._connections:
            connector = self.connectors(channel)
            try:
                self._connections[channel] = _connection(connector.info)
            finally:
                await connector.close()
        return self._connections[channel]

    async def test_connection(
        self, channel: Channel, *, actor: Principal, client_address: str | None
    ) -> ConnectionTestResult:
        """An admin's connection test: a connector of its own signs in and reads once."""
        if self.connectors is None:
            raise RuntimeError("no connectors to test")
        connector = self.connectors(channel)
        try:
            check = await connector.check_connection()
            connection = _connection(connector.info)
        finally:
            await connector.close()
        await self.trail.record(
            "channel.connection_tested",
            actor=actor,
            target=str(channel),
            client_address=client_address,
            details={"ok": check.ok},
        )
        return ConnectionTestResult(
            channel=channel,
            ok=check.ok,
            detail=check.detail,
            elapsed_ms=check.elapsed_ms,
            connection=connection,
            tested_at=utc_now(),
        )

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


def _connection(info: ConnectorInfo) -> ChannelConnection:
    return ChannelConnection(connector=info.connector, mode=info.mode.value, sandbox=info.sandbox)
