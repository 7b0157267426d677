"""The stateful tier (deploy/kubernetes/stateful) renders, keeps its data safe, and agrees with
the code and the services' configuration: the topics and users are those of
``orderhub_common.kafka`` and ``kafka_access``, every credential is a Secret DEPLOYMENT.md tells
the team to make, and the services' addresses are the operators' Services.

The operators' kinds have no schema in kubernetes-validate: their shapes are asserted here. The
core kinds (Namespace, ConfigMap, StatefulSet, Service, NetworkPolicy) are validated strictly.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from deploy.tests.test_kubernetes_manifests import (
    VERSIONS,
    Manifest,
    base_manifests,
    of_kind,
    rendered_once,
    schema_errors,
)
from orderhub_common.kafka import Topics, topic_specs
from orderhub_common.kafka_access import (
    ACCESS,
    AclBinding,
    Operation,
    PatternType,
    ResourceType,
    bindings,
)
from orderhub_common.settings import KafkaSettings

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
DEPLOYMENT = (REPO / "docs" / "DEPLOYMENT.md").read_text()
RUNBOOK = (REPO / "docs" / "RUNBOOK.md").read_text()
_TOPIC_LAYOUT = {"KAFKA_TOPIC_REPLICATION_FACTOR", "KAFKA_TOPIC_MIN_INSYNC_REPLICAS"}
OPERATOR_GROUPS = {"kafka.strimzi.io", "postgresql.cnpg.io", "psmdb.percona.com"}


@pytest.fixture(scope="module")
def stateful() -> list[Manifest]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl (with its built-in kustomize) is not installed")
    # rendered_once renders a folder of deploy/kubernetes/overlays; the stateful tier is beside it.
    return list(rendered_once("../stateful", kubectl))


@pytest.fixture(scope="module")
def config() -> dict[str, str]:
    data: dict[str, str] = of_kind(base_manifests(), "ConfigMap")["orderhub-config"]["data"]
    return data


def the(docs: list[Manifest], kind: str) -> Manifest:
    (found,) = of_kind(docs, kind).values()
    return found


@pytest.mark.parametrize("version", VERSIONS)
def test_the_core_kinds_follow_the_kubernetes_schema(
    stateful: list[Manifest], version: str
) -> None:
    assert schema_errors(stateful, version, OPERATOR_GROUPS) == []
    assert {d["kind"] for d in stateful} >= {
        "Kafka",
        "KafkaNodePool",
        "KafkaTopic",
        "KafkaUser",
        "Cluster",
        "ScheduledBackup",
        "PerconaServerMongoDB",
        "StatefulSet",
    }
    # Every object says where it goes: nothing lands in `default`.
    assert [
        d["metadata"]["name"]
        for d in stateful
        if d["kind"] != "Namespace" and not d["metadata"].get("namespace")
    ] == []


def test_kafka_has_three_brokers_that_acknowledge_a_write_on_two(
    stateful: list[Manifest],
) -> None:
    kafka = the(stateful, "Kafka")
    (pool,) = of_kind(stateful, "KafkaNodePool").values()
    config = kafka["spec"]["kafka"]["config"]

    assert pool["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
    assert pool["spec"]["replicas"] == 3
    assert set(pool["spec"]["roles"]) == {"controller", "broker"}
    assert kafka["metadata"]["annotations"]["strimzi.io/kraft"] == "enabled"
    assert config["default.replication.factor"] == 3
    assert config["min.insync.replicas"] == 2
    assert config["auto.create.topics.enable"] is False
    # Every listener signs clients in; the simple authorizer enforces the users' ACLs.
    assert all(
        listener["authentication"]["type"] == "scram-sha-512"
        for listener in kafka["spec"]["kafka"]["listeners"]
    )
    assert {(lst["port"], lst["tls"]) for lst in kafka["spec"]["kafka"]["listeners"]} >= {
        (9093, True)
    }
    assert kafka["spec"]["kafka"]["authorization"] == {"type": "simple"}


def test_the_topics_are_the_contracts_laid_out_as_the_services_configuration_says(
    stateful: list[Manifest], config: dict[str, str]
) -> None:
    # The services' Kafka settings as the ConfigMap gives them (nothing from this environment).
    settings = KafkaSettings.model_validate(
        {k: v for k, v in config.items() if k in {"KAFKA_PARTITIONS", *_TOPIC_LAYOUT}}
    )
    expected = {
        spec.name: {
            "partitions": spec.num_partitions,
            "replicas": spec.replication_factor,
            "config": spec.topic_configs,
        }
        for spec in topic_specs(settings)
    }
    kafka = the(stateful, "Kafka")["metadata"]["name"]

    topics = of_kind(stateful, "KafkaTopic")

    assert {name: topic["spec"] for name, topic in topics.items()} == expected
    assert {t["metadata"]["labels"]["strimzi.io/cluster"] for t in topics.values()} == {kafka}
    assert {t["spec"]["replicas"] for t in topics.values()} == {3}
    assert {t["spec"]["config"]["min.insync.replicas"] for t in topics.values()} == {"2"}


_OPERATIONS = {"Read": Operation.READ, "Write": Operation.WRITE}
_OPERATIONS["IdempotentWrite"] = Operation.IDEMPOTENT_WRITE


def _strimzi_bindings(user: Manifest) -> set[AclBinding]:
    principal = f"User:{user['metadata']['name']}"
    found = set()
    for acl in user["spec"]["authorization"]["acls"]:
        resource = acl["resource"]
        kind = ResourceType[resource["type"].upper()]
        name = resource.get("name", "kafka-cluster")
        pattern = {"literal": PatternType.LITERAL, "prefix": PatternType.PREFIXED}[
            resource.get("patternType", "literal")
        ]
        assert acl.get("host", "*") == "*"
        found |= {
            AclBinding(principal, kind, name, pattern, _OPERATIONS[op]) for op in acl["operations"]
        }
    return found


def test_each_services_kafka_user_has_exactly_the_acls_of_kafka_access(
    stateful: list[Manifest],
) -> None:
    users = of_kind(stateful, "KafkaUser")
    declared = bindings(Topics())

    assert set(users) == {access.user for access in ACCESS}
    for name, user in users.items():
        assert user["spec"]["authentication"]["type"] == "scram-sha-512"
        assert _strimzi_bindings(user) == {b for b in declared if b.principal == f"User:{name}"}


def test_postgresql_is_backed_up_every_night_with_its_wal_archived(
    stateful: list[Manifest],
) -> None:
    cluster = the(stateful, "Cluster")
    scheduled = the(stateful, "ScheduledBackup")
    store = cluster["spec"]["backup"]["barmanObjectStore"]
    initdb = cluster["spec"]["bootstrap"]["initdb"]
    roles = {r["name"]: r for r in cluster["spec"]["managed"]["roles"]}

    assert cluster["spec"]["instances"] == 3
    assert scheduled["spec"]["cluster"]["name"] == cluster["metadata"]["name"]
    assert scheduled["spec"]["method"] == "barmanObjectStore"
    # Six fields, seconds first: once a day.
    assert re.fullmatch(r"0 \d+ \d+ \* \* \*", scheduled["spec"]["schedule"])
    assert store["destinationPath"].startswith("s3://")
    assert "wal" in store, "WAL archiving: point-in-time recovery between base backups"
    assert cluster["spec"]["backup"]["retentionPolicy"]
    # The two roles of infra/postgres/roles.sql.
    assert (initdb["database"], initdb["owner"]) == ("orderhub_orders", "orderhub_owner")
    assert any("pg_trgm" in sql for sql in initdb["postInitApplicationSQL"])
    assert roles["orderhub"]["login"] is True
    assert not any(roles["orderhub"].get(a) for a in ("superuser", "createdb", "createrole"))
    assert roles["orderhub_owner"]["inRoles"] == ["orderhub"]


def test_mongodb_is_a_replica_set_of_three_with_nightly_and_point_in_time_backups(
    stateful: list[Manifest],
) -> None:
    mongodb = the(stateful, "PerconaServerMongoDB")["spec"]
    (replset,) = mongodb["replsets"]
    backup = mongodb["backup"]
    (user,) = mongodb["users"]

    assert replset["size"] == 3
    assert backup["enabled"] is True
    assert backup["pitr"]["enabled"] is True
    assert {task["storageName"] for task in backup["tasks"] if task["enabled"]} <= set(
        backup["storages"]
    )
    assert [task for task in backup["tasks"] if task["enabled"]]
    # compose's application user: readWrite on the two databases and nothing else.
    assert sorted((r["name"], r["db"]) for r in user["roles"]) == [
        ("readWrite", "orderhub_auth"),
        ("readWrite", "orderhub_orders"),
    ]


def test_redis_keeps_an_append_only_file_on_a_volume_and_has_no_default_user(
    stateful: list[Manifest],
) -> None:
    redis = of_kind(stateful, "StatefulSet")["redis"]
    conf = of_kind(stateful, "ConfigMap")["redis-config"]["data"]["redis.conf"].splitlines()
    mounts = {
        m["name"]: m["mountPath"]
        for m in redis["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
    }

    assert "appendonly yes" in conf
    assert "maxmemory-policy noeviction" in conf
    assert "dir /data" in conf
    assert mounts["data"] == "/data"
    assert [t["metadata"]["name"] for t in redis["spec"]["volumeClaimTemplates"]] == ["data"]
    aclfile = next(line.split()[1] for line in conf if line.startswith("aclfile "))
    assert str(Path(aclfile).parent) == mounts["acl"]
    # The ACL file DEPLOYMENT.md has the team write: the services' commands alone.
    assert "user default off" in DEPLOYMENT
    assert "from devstack.credentials import redis_app_rules" in DEPLOYMENT


def _secret_refs(node: Any, found: set[str]) -> set[str]:
    """Every Secret name the manifests reference, in the shapes the operators and core use."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in {"secretKeyRef", "passwordSecretRef", "passwordSecret"} or (
                key in {"secret", "accessKeyId", "secretAccessKey"} and isinstance(value, dict)
            ):
                found.add(value.get("name") or value["secretName"])
            elif key in {"credentialsSecret", "users", "secretName"} and isinstance(value, str):
                found.add(value)
            else:
                _secret_refs(value, found)
    elif isinstance(node, list):
        for item in node:
            _secret_refs(item, found)
    return found


def test_every_secret_the_stateful_tier_reads_is_one_deployment_md_has_the_team_make(
    stateful: list[Manifest],
) -> None:
    referenced = _secret_refs(stateful, set())

    assert referenced == {
        "kafka-user-passwords",
        "orderhub-postgres-owner",
        "orderhub-postgres-service",
        "orderhub-backup-s3",
        "orderhub-mongodb-app",
        "orderhub-mongodb-system-users",
        "orderhub-redis-acl",
    }
    assert of_kind(stateful, "Secret") == {}
    for name in referenced:
        assert f"`{name}`" in DEPLOYMENT, f"DEPLOYMENT.md does not say how to make {name}"
    # And the per-service Kafka Secrets the base's Deployments read.
    for access in ACCESS:
        assert f"orderhub-kafka-{access.user}" in DEPLOYMENT


def test_the_services_configuration_points_at_the_stateful_services(
    stateful: list[Manifest], config: dict[str, str]
) -> None:
    kafka = the(stateful, "Kafka")
    postgres = the(stateful, "Cluster")["metadata"]
    mongodb = the(stateful, "PerconaServerMongoDB")
    redis = of_kind(stateful, "Service")["redis"]["metadata"]
    scram_ports = {
        lst["port"]
        for lst in kafka["spec"]["kafka"]["listeners"]
        if lst["authentication"]["type"] == config["KAFKA_SASL_MECHANISM"].lower()
    }

    host, port = config["KAFKA_BOOTSTRAP_SERVERS"].rsplit(":", 1)
    assert (
        host == f"{kafka['metadata']['name']}-kafka-bootstrap.{kafka['metadata']['namespace']}.svc"
    )
    assert int(port) in scram_ports
    # The URLs with passwords live in the Secret: DEPLOYMENT.md writes them with these hosts.
    (replset,) = mongodb["spec"]["replsets"]
    mongo_set = f"{mongodb['metadata']['name']}-{replset['name']}"
    assert f"{mongo_set}-0.{mongo_set}.{mongodb['metadata']['namespace']}.svc" in DEPLOYMENT
    assert f"replicaSet={replset['name']}" in DEPLOYMENT
    assert f"@{postgres['name']}-rw.{postgres['namespace']}.svc:5432/orderhub_orders" in DEPLOYMENT
    assert f"@{redis['name']}.{redis['namespace']}.svc:6379/0" in DEPLOYMENT


def test_the_runbook_says_how_each_store_is_recovered_and_how_fast() -> None:
    section = RUNBOOK.split("# Backup, restore and disaster recovery (production)", 1)[1]

    for term in ("RPO", "RTO", "MongoDB", "PostgreSQL", "Kafka", "Redis", "another region"):
        assert term in section
    for resource in ("PerconaServerMongoDBRestore", "kind: Cluster", "recovery"):
        assert resource in section
