"""The local stack formats Kafka's storage on first start with a fresh cluster id: one that
starts with "-" makes the storage tool read it as an option and the start fails (seen once in
64 first starts, on a helper's test stack)."""

from __future__ import annotations

import base64
import uuid

import pytest

from devstack.components import kafka_cluster_id

pytestmark = pytest.mark.unit


def test_a_cluster_id_that_would_start_with_a_dash_is_drawn_again() -> None:
    # 0xF8 encodes to "-" as the first base64url character.
    draws = iter([bytes([0xF8]) + bytes(15), uuid.UUID(int=1).bytes])

    cluster_id = kafka_cluster_id(lambda: next(draws))

    assert cluster_id == base64.urlsafe_b64encode(uuid.UUID(int=1).bytes).decode().rstrip("=")


def test_a_cluster_id_is_a_base64url_uuid_without_padding() -> None:
    cluster_id = kafka_cluster_id()

    assert len(cluster_id) == 22
    assert not cluster_id.startswith("-")
    assert uuid.UUID(bytes=base64.urlsafe_b64decode(cluster_id + "==")).version == 4
