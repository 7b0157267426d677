"""Who may do what on Kafka: each service's user, the topics it produces to and consumes from and
its consumer groups, declared once (``ACCESS``); the ACLs that follow from it; and the start step
that creates the contract's topics and those ACLs as the broker's own user.

The broker refuses whatever no ACL allows (``StandardAuthorizer`` with
``allow.everyone.if.no.acl.found=false``; its own user is the one super user), so a service's
user may write to the topics it produces to, read the topics it consumes from in its own groups,
and nothing else: no creating, deleting or reconfiguring topics, no other service's group. The
topics are therefore created here, by the broker's own user, before the services start (a
service's ``ensure_topics`` then finds them there).

    python -m orderhub_common.kafka_access    # with the KAFKA_* variables of the broker's user

Run at every start of the local stack (devstack) and by docker compose's ``kafka-init``; creating
an ACL or a topic that exists changes nothing. A service that needs another topic or group gets
it by a change of its line in ``ACCESS``.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka.client import AIOKafkaClient
from aiokafka.protocol.admin import CreateAclsRequest_v1, DescribeAclsRequest
from aiokafka.protocol.api import Request
from loguru import logger

from orderhub_common.kafka import Topics, aiokafka_options, ensure_topics, topics_from
from orderhub_common.settings import KafkaSettings, load_settings


@dataclass(frozen=True)
class ServiceAccess:
    """One service's Kafka user and what it may do. Topics are named by their ``Topics``
    property (so a topic prefix applies), groups by their id or, for ids made up at run time,
    by a prefix."""

    user: str
    produces: tuple[str, ...] = ()
    consumes: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    group_prefixes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = [
            name
            for name in (*self.produces, *self.consumes)
            if not isinstance(getattr(Topics, name, None), property)
        ]
        if unknown:
            raise ValueError(f"{self.user}: not topics of Topics: {', '.join(unknown)}")


ACCESS: tuple[ServiceAccess, ...] = (
    # Its sign-ins, sign-outs and user changes go to the audit log.
    ServiceAccess("auth", produces=("audit",)),
    # What it reads from the channels (live and history lanes), and its own audit records
    # (pauses, resumes).
    ServiceAccess("ingest", produces=("ingested", "ingested_history", "audit")),
    ServiceAccess(
        "orders",
        # Its order events (outbox relay), dead letters of both streams, its audit records, and
        # a replayed dead letter back onto orders.ingested.v1.
        produces=("order_events", "ingested_dlq", "audit", "audit_dlq", "ingested"),
        # The ingested orders of both lanes, their dead letters (the admin page's inbox) and the
        # audit log it keeps.
        consumes=("ingested", "ingested_history", "ingested_dlq", "audit"),
        groups=("orders", "orders-history", "orders-dead-letters"),
    ),
    # The SSE feed and cache invalidation, in one group per replica (``gateway-sse-<host>-<port>``).
    ServiceAccess("gateway", consumes=("order_events",), group_prefixes=("gateway-",)),
)


class ResourceType(enum.IntEnum):
    """Kafka's codes (``org.apache.kafka.common.resource.ResourceType``)."""

    TOPIC = 2
    GROUP = 3
    CLUSTER = 4


class PatternType(enum.IntEnum):
    LITERAL = 3
    PREFIXED = 4


class Operation(enum.IntEnum):
    """Kafka's codes (``AclOperation``). READ and WRITE imply DESCRIBE."""

    READ = 3
    WRITE = 4
    IDEMPOTENT_WRITE = 12


ALLOW = 3
ANY_HOST = "*"
# The one name a cluster resource has.
CLUSTER = "kafka-cluster"


@dataclass(frozen=True, order=True)
class AclBinding:
    principal: str
    resource_type: ResourceType
    resource_name: str
    pattern_type: PatternType
    operation: Operation


def bindings(topics: Topics, access: Sequence[ServiceAccess] = ACCESS) -> list[AclBinding]:
    """Every ACL the declaration asks for, allowing from any host."""
    found: set[AclBinding] = set()
    topic, group, cluster = ResourceType.TOPIC, ResourceType.GROUP, ResourceType.CLUSTER
    literal, prefixed = PatternType.LITERAL, PatternType.PREFIXED
    for service in access:
        principal = f"User:{service.user}"
        # create_broker's producer is idempotent and starts with the broker, whether or not the
        # service publishes (the gateway does not): it needs a producer id, which writes nothing.
        found.add(AclBinding(principal, cluster, CLUSTER, literal, Operation.IDEMPOTENT_WRITE))
        for name in service.produces:
            found.add(AclBinding(principal, topic, getattr(topics, name), literal, Operation.WRITE))
        for name in service.consumes:
            found.add(AclBinding(principal, topic, getattr(topics, name), literal, Operation.READ))
        for group_id in service.groups:
            found.add(AclBinding(principal, group, group_id, literal, Operation.READ))
        for prefix in service.group_prefixes:
            found.add(AclBinding(principal, group, prefix, prefixed, Operation.READ))
    return sorted(found)


class _CreateAcls(Request[CreateAclsRequest_v1]):
    """Every binding in one CreateAcls request (aiokafka's own request sends one at a time)."""

    API_KEY = 30

    def __init__(self, creations: Sequence[AclBinding]) -> None:
        self.creations = creations

    def build(self, request_struct_class: type[CreateAclsRequest_v1]) -> CreateAclsRequest_v1:
        return request_struct_class(
            [
                (
                    int(b.resource_type),
                    b.resource_name,
                    int(b.pattern_type),
                    b.principal,
                    ANY_HOST,
                    int(b.operation),
                    ALLOW,
                )
                for b in self.creations
            ]
        )


async def create_acls(
    settings: KafkaSettings, acls: Sequence[AclBinding], *, timeout_s: float = 15
) -> None:
    """Creates ``acls`` (an ACL that exists already stays as it is) and returns once the broker
    applies them (a moment after the controller took them); raises if any is refused."""
    client = AIOKafkaClient(request_timeout_ms=10_000, **aiokafka_options(settings))
    await client.bootstrap()
    try:
        response = await client.send(client.get_random_node(), _CreateAcls(acls))
        failed = [
            f"{acl.principal} {acl.operation.name} {acl.resource_name}: {code} {message}"
            for acl, (code, message) in zip(acls, response.creation_responses, strict=True)
            if code != 0
        ]
        if failed:
            raise RuntimeError(f"Kafka refused ACLs: {'; '.join(failed)}")
        async with asyncio.timeout(timeout_s):
            while not set(acls) <= await _applied(client):  # noqa: ASYNC110 - polls the broker
                await asyncio.sleep(0.05)
    finally:
        await client.close()


async def _applied(client: AIOKafkaClient) -> set[AclBinding]:
    """Every ALLOW binding the broker enforces now (its answer to DescribeAcls)."""
    any_ = 1
    response = await client.send(
        client.get_random_node(),
        DescribeAclsRequest(any_, None, any_, None, None, any_, any_),
    )
    # Only the kinds of binding ACCESS makes (others, made by hand, are no concern here).
    kinds, patterns, operations = (
        {member.value for member in members} for members in (ResourceType, PatternType, Operation)
    )
    return {
        AclBinding(principal, ResourceType(kind), name, PatternType(pattern), Operation(operation))
        for kind, name, pattern, entries in response.resources
        for principal, _host, operation, permission in entries
        if permission == ALLOW and kind in kinds and pattern in patterns and operation in operations
    }


async def provision(settings: KafkaSettings) -> None:
    """The contract's topics and every service's ACLs, as the broker's own user."""
    await ensure_topics(settings)
    acls = bindings(topics_from(settings))
    await create_acls(settings, acls)
    logger.info(f"Kafka ACLs in place: {len(acls)} for {len(ACCESS)} service users")


def main() -> None:
    asyncio.run(provision(load_settings(KafkaSettings)))


if __name__ == "__main__":
    main()
