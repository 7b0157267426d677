"""The contract's topics are laid out as the settings say: one broker's numbers locally, three
brokers' in production, never a number written in the code."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from orderhub_common.kafka import topic_specs
from orderhub_common.settings import KafkaSettings

pytestmark = pytest.mark.unit


def test_every_topic_takes_its_replication_and_min_insync_replicas_from_the_settings() -> None:
    settings = KafkaSettings(
        KAFKA_PARTITIONS=24,
        KAFKA_TOPIC_REPLICATION_FACTOR=3,
        KAFKA_TOPIC_MIN_INSYNC_REPLICAS=2,
    )

    specs = {spec.name: spec for spec in topic_specs(settings)}

    assert {name: spec.replication_factor for name, spec in specs.items()} == dict.fromkeys(
        specs, 3
    )
    assert {name: spec.topic_configs["min.insync.replicas"] for name, spec in specs.items()} == (
        dict.fromkeys(specs, "2")
    )
    # The two streams of orders scale with consumers; dead letters and the audit log keep one
    # partition (one order of records).
    assert {name: spec.num_partitions for name, spec in specs.items()} == {
        "orders.ingested.v1": 24,
        "orders.ingested.history.v1": 24,
        "orders.events.v1": 24,
        "orders.ingested.v1.dlq": 1,
        "audit.v1": 1,
        "audit.v1.dlq": 1,
    }


def test_the_defaults_fit_the_single_broker_of_the_local_stack() -> None:
    specs = topic_specs(KafkaSettings())

    assert {spec.replication_factor for spec in specs} == {1}
    assert {spec.topic_configs["min.insync.replicas"] for spec in specs} == {"1"}
    assert {spec.num_partitions for spec in specs} == {12, 1}


def test_the_settings_refuse_more_in_sync_replicas_than_replicas(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A topic that can never have enough in-sync replicas refuses every acks=all write.
    monkeypatch.setenv("KAFKA_TOPIC_REPLICATION_FACTOR", "2")
    monkeypatch.setenv("KAFKA_TOPIC_MIN_INSYNC_REPLICAS", "3")

    with pytest.raises(ValidationError, match="cannot exceed KAFKA_TOPIC_REPLICATION_FACTOR"):
        KafkaSettings()
