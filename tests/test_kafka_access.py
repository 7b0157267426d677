"""The one declaration of what each service's Kafka user may do names the users devstack signs
them in as, and the consumer groups the services really join."""

from __future__ import annotations

import pytest

from devstack import credentials
from gateway.consumers import sse_group_id
from orderhub_common.kafka import Topics
from orderhub_common.kafka_access import ACCESS, ServiceAccess, bindings
from orders.consumers import DEAD_LETTER_GROUP_ID, GROUP_ID, HISTORY_GROUP_ID

pytestmark = pytest.mark.unit


def _may_join(user: str, group_id: str) -> bool:
    access = next(a for a in ACCESS if a.user == user)
    return group_id in access.groups or group_id.startswith(access.group_prefixes)


def test_every_service_user_of_the_declaration_is_one_devstack_gives_a_password() -> None:
    assert sorted(a.user for a in ACCESS) == sorted(credentials.KAFKA_SERVICE_USERS)


def test_the_groups_the_services_join_are_their_own() -> None:
    assert _may_join("orders", GROUP_ID)
    assert _may_join("orders", DEAD_LETTER_GROUP_ID)
    assert _may_join("orders", HISTORY_GROUP_ID)
    assert _may_join("gateway", sse_group_id(8080))
    assert not _may_join("gateway", GROUP_ID)
    assert not any(_may_join(user, GROUP_ID) for user in ("auth", "ingest", "gateway"))


def test_the_acls_follow_the_topic_prefix() -> None:
    prefixed = {b.resource_name for b in bindings(Topics("t1.")) if b.resource_type.name == "TOPIC"}

    assert prefixed == {
        f"t1.{b.resource_name}" for b in bindings(Topics()) if b.resource_type.name == "TOPIC"
    }


def test_a_declaration_naming_no_topic_is_refused() -> None:
    with pytest.raises(ValueError, match="not topics"):
        ServiceAccess("someone", produces=("orders.ingested.v1",))
