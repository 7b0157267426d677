"""Recording who did what: every service publishes its people's state-changing actions to
``audit.v1`` through one ``AuditTrail``; one keeper stores them (append-only) and serves the log.

Wiring (a service with a Kafka broker)::

    trail = AuditTrail(broker, topics_from(settings), service="ingest")
    await trail.record("channel.paused", actor=principal, target="website",
                       client_address=address)  # address: orderhub_common.http.ClientAddress

A record that cannot be published is logged and the action stands: the audit log must not turn
a broker outage into refused sign-ins or stuck orders. The loss is counted
(``orderhub_audit_records_lost_total``), so an alert can say the log has a gap.
"""

from __future__ import annotations

import asyncio

from faststream.kafka import KafkaBroker
from loguru import logger
from prometheus_client import Counter
from pydantic import JsonValue

from orderhub_common.context import request_id_var
from orderhub_common.events import AuditOutcome, AuditRecorded
from orderhub_common.kafka import Topics
from orderhub_common.security import Principal

records_lost = Counter(
    "orderhub_audit_records_lost",
    "Audit records that could not be published (the action itself went ahead)",
    ["service", "action"],
)


class AuditTrail:
    def __init__(
        self,
        broker: KafkaBroker,
        topics: Topics,
        *,
        service: str,
        publish_timeout_s: float = 2.0,
    ) -> None:
        # Declared on the broker so it also documents the topic in the AsyncAPI document.
        self._publisher = broker.publisher(
            topics.audit,
            title="audit.v1",
            description="One state-changing action by a person. Key: its target (or action).",
            schema=AuditRecorded,
        )
        self._service = service
        self._publish_timeout_s = publish_timeout_s

    async def record(
        self,
        action: str,
        *,
        actor: Principal | None = None,
        actor_id: str | None = None,
        actor_email: str | None = None,
        target: str | None = None,
        outcome: AuditOutcome = AuditOutcome.SUCCEEDED,
        client_address: str | None = None,
        details: dict[str, JsonValue] | None = None,
    ) -> AuditRecorded:
        """Publishes one record and returns it. ``actor`` (a verified token's principal) or
        ``actor_id`` names who acted; a failed sign-in has only an ``actor_email``."""
        entry = AuditRecorded(
            service=self._service,
            action=action,
            outcome=outcome,
            actor_id=actor.user_id if actor else actor_id,
            actor_email=actor_email,
            target=target,
            client_address=client_address,
            request_id=request_id_var.get(),
            details=details or {},
        )
        try:
            # A broker outage must cost an action at most this long, not the producer's retries.
            async with asyncio.timeout(self._publish_timeout_s):
                await self._publisher.publish(entry, key=(entry.target or entry.action).encode())
        except Exception as exc:  # the action stands; the gap is counted and logged
            records_lost.labels(self._service, action).inc()
            logger.bind(action=action, target=target).warning(
                f"audit record not published: {type(exc).__name__}"
            )
        return entry
