"""Test infrastructure from testcontainers, for machines with a Docker engine."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from devstack.pytest_plugin import InfraUrls


@contextlib.contextmanager
def running_containers() -> Iterator[InfraUrls]:
    from testcontainers.kafka import KafkaContainer
    from testcontainers.mongodb import MongoDbContainer
    from testcontainers.postgres import PostgresContainer
    from testcontainers.redis import RedisContainer

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
