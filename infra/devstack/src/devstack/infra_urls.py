"""The addresses tests reach their infrastructure at, and the three places they come from.

In order of preference: URLs from the environment (all of ``ORDERHUB_TEST_KAFKA``,
``ORDERHUB_TEST_MONGODB_URL``, ``ORDERHUB_TEST_POSTGRES_URL``, ``ORDERHUB_TEST_REDIS_URL``, and
``ORDERHUB_TEST_KAFKA_SASL_USERNAME`` / ``_PASSWORD`` for a broker that wants SASL/PLAIN, and
``ORDERHUB_TEST_POSTGRES_SERVICE_URL`` for a role apart from the one that creates databases);
else testcontainers when a Docker engine answers; else the local stack's test profile (its own
ports and data, so a running ``make up`` stack is never touched). The pytest plugin picks one.

The stores' URLs carry their credentials; Kafka's are apart (``kafka_sasl``): a test builds its
settings from ``kafka_settings()`` (or ``kafka_environment()``), and an aiokafka client from
``KafkaSettings(**infra.kafka_settings()).aiokafka_options()``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from devstack import credentials
from devstack.kafka_tls import KafkaTls
from devstack.stack import Stack

ENVIRONMENT_VARIABLES = {
    "kafka_bootstrap": "ORDERHUB_TEST_KAFKA",
    "mongodb_url": "ORDERHUB_TEST_MONGODB_URL",
    "postgres_url": "ORDERHUB_TEST_POSTGRES_URL",
    "redis_url": "ORDERHUB_TEST_REDIS_URL",
}
KAFKA_SASL_VARIABLES = ("ORDERHUB_TEST_KAFKA_SASL_USERNAME", "ORDERHUB_TEST_KAFKA_SASL_PASSWORD")
POSTGRES_SERVICE_VARIABLE = "ORDERHUB_TEST_POSTGRES_SERVICE_URL"


@dataclass(frozen=True)
class InfraUrls:
    kafka_bootstrap: str
    mongodb_url: str
    redis_url: str
    # A role that may CREATE DATABASE (plain postgresql://): each test creates its own database,
    # owned by this role, which migrates it.
    postgres_url: str
    # The broker's SASL/PLAIN user and password, None for a broker that takes anyone.
    kafka_sasl: tuple[str, str] | None = None
    # Each service's own Kafka user and password (held to its ACLs), by user name; empty for a
    # broker without them.
    kafka_service_users: dict[str, tuple[str, str]] = field(default_factory=dict)
    # The role a service works as (owning nothing; the migrations grant it its privileges), on
    # the same server; None: the services work as ``postgres_url``'s role too.
    postgres_service_url: str | None = None
    # A Redis user that may do what the services' user may not (FLUSHDB, SCAN), for the suites'
    # own clean-up; None: ``redis_url``'s user may (a Redis without the stack's ACL).
    redis_admin_url: str | None = None
    # The broker's TLS listeners and the CA of their certificates (the local stack's alone):
    # ``kafka_tls_bootstrap`` SASL_SSL (PLAIN, SCRAM-SHA-512), ``kafka_mtls_bootstrap`` SSL with a
    # client certificate of that CA; None: a broker without them.
    kafka_tls_bootstrap: str | None = None
    kafka_mtls_bootstrap: str | None = None
    kafka_tls: KafkaTls | None = None

    def kafka_environment(self) -> dict[str, str]:
        """The variables ``KafkaSettings`` reads, as a service started on this broker gets them."""
        env = {"KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap}
        if self.kafka_sasl is not None:
            env["KAFKA_SASL_MECHANISM"] = "PLAIN"
            env["KAFKA_SASL_USERNAME"], env["KAFKA_SASL_PASSWORD"] = self.kafka_sasl
        return env

    def kafka_settings(self) -> dict[str, Any]:
        """The same as ``KafkaSettings`` keyword arguments (field names)."""
        return {key.lower(): value for key, value in self.kafka_environment().items()}

    def redis_db(self, db: int) -> str:
        """The same Redis server, another logical database (one per test suite)."""
        return _on_database(self.redis_url, db)

    def redis_admin_db(self, db: int) -> str:
        """``redis_db`` as the clean-up user: for a suite's FLUSHDB or SCAN, never a service."""
        return _on_database(self.redis_admin_url or self.redis_url, db)


def _on_database(url: str, db: int) -> str:
    base = url.rsplit("/", 1)[0] if url.count("/") > 2 else url
    return f"{base}/{db}"


def from_environment() -> InfraUrls | None:
    """The URLs in ``ORDERHUB_TEST_*``; None if none is set, an error if only some are."""
    values = {field: os.environ.get(variable) for field, variable in ENVIRONMENT_VARIABLES.items()}
    missing = [ENVIRONMENT_VARIABLES[field] for field, value in values.items() if not value]
    if len(missing) == len(values):
        return None
    if missing:
        raise ValueError(f"set every ORDERHUB_TEST_* URL or none; missing: {', '.join(missing)}")
    username, password = (os.environ.get(variable) for variable in KAFKA_SASL_VARIABLES)
    sasl = (username, password) if username and password else None
    service_url = os.environ.get(POSTGRES_SERVICE_VARIABLE) or None
    return InfraUrls(**values, kafka_sasl=sasl, postgres_service_url=service_url)  # type: ignore[arg-type]


def docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
    except Exception:
        return False
    return True


@contextlib.contextmanager
def from_containers() -> Iterator[InfraUrls]:
    """Kafka, MongoDB 7, PostgreSQL 16 and Redis 7 in containers, removed afterwards."""
    from testcontainers.community.kafka import KafkaContainer
    from testcontainers.community.mongodb import MongoDbContainer
    from testcontainers.community.postgres import PostgresContainer
    from testcontainers.community.redis import RedisContainer

    with (
        KafkaContainer("apache/kafka:4.1.0").with_kraft() as kafka,
        MongoDbContainer("mongo:7") as mongo,
        # The image's POSTGRES_USER is a superuser, so tests may create their own databases.
        PostgresContainer("postgres:16") as postgres,
        RedisContainer("redis:7") as redis,
    ):
        redis_host = redis.get_container_host_ip()
        redis_port = redis.get_exposed_port(6379)
        yield InfraUrls(
            kafka_bootstrap=kafka.get_bootstrap_server(),
            mongodb_url=mongo.get_connection_url(),
            redis_url=f"redis://{redis_host}:{redis_port}/0",
            postgres_url=postgres.get_connection_url(driver=None),
        )


def from_local_stack(stack: Stack) -> InfraUrls:
    """The stack's infrastructure, started first if it is not up."""
    stack.ensure_infra_running()
    kafka = stack.kafka_environment()
    return InfraUrls(
        kafka_bootstrap=stack.kafka_bootstrap,
        mongodb_url=stack.mongodb_url,
        redis_url=stack.redis_url,
        postgres_url=stack.postgres_owner_url,
        kafka_sasl=(kafka["KAFKA_SASL_USERNAME"], kafka["KAFKA_SASL_PASSWORD"]),
        kafka_service_users={
            user: (user, stack.profile.environment[credentials.kafka_password_variable(user)])
            for user in credentials.KAFKA_SERVICE_USERS
        },
        postgres_service_url=stack.postgres_url,
        redis_admin_url=stack.redis_test_admin_url,
        kafka_tls_bootstrap=stack.addresses.kafka_tls_bootstrap,
        kafka_mtls_bootstrap=stack.addresses.kafka_mtls_bootstrap,
        kafka_tls=stack.addresses.kafka_tls,
    )
