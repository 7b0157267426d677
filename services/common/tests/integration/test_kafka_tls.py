"""Kafka over TLS, as managed Kafka (MSK, Aiven, Confluent Cloud) is reached: the local stack's
broker has a SASL_SSL listener and an SSL listener that requires a client certificate, both with a
certificate of a CA the stack generated at start (``devstack.kafka_tls``). The services' clients,
built from ``KafkaSettings`` alone (FastStream's broker and the raw aiokafka clients), sign in
over TLS with SCRAM-SHA-512, PLAIN or a client certificate; a client that does not trust the CA,
or that expects another host, is refused."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path
from typing import Any, Literal

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError

from devstack import kafka_tls
from devstack.kafka_tls import KafkaTls
from devstack.pytest_plugin import InfraUrls
from orderhub_common.kafka import aiokafka_options, create_broker, ensure_topics, topics_from
from orderhub_common.settings import KafkaSettings

pytestmark = pytest.mark.integration


@pytest.fixture
def tls(infra: InfraUrls) -> KafkaTls:
    if infra.kafka_tls is None or infra.kafka_sasl is None:
        pytest.skip("this broker has no TLS listeners of the stack's (not the local stack)")
    return infra.kafka_tls


def _sasl_ssl(
    infra: InfraUrls,
    mechanism: Literal["PLAIN", "SCRAM-SHA-512"],
    ca_file: Path | None,
    prefix: str,
) -> KafkaSettings:
    assert infra.kafka_sasl is not None
    username, password = infra.kafka_sasl
    return KafkaSettings(
        KAFKA_BOOTSTRAP_SERVERS=infra.kafka_tls_bootstrap,
        KAFKA_SECURITY_PROTOCOL="SASL_SSL",
        KAFKA_SASL_MECHANISM=mechanism,
        KAFKA_SASL_USERNAME=username,
        KAFKA_SASL_PASSWORD=password,
        KAFKA_SSL_CA_FILE=ca_file,
        KAFKA_TOPIC_PREFIX=prefix,
    )


async def _round_trip(settings: KafkaSettings, group: str) -> None:
    """FastStream's broker consumes what a raw aiokafka producer sends, and a raw consumer what
    FastStream publishes: every client the services build, over the settings' connection."""
    await ensure_topics(settings)
    topics = topics_from(settings)
    received: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
    broker = create_broker(settings, client_id="tls-test")

    @broker.subscriber(topics.audit, group_id=group, auto_offset_reset="earliest")
    async def on_audit(body: bytes) -> None:
        if not received.done():
            received.set_result(body)

    producer = AIOKafkaProducer(**aiokafka_options(settings))
    consumer = AIOKafkaConsumer(
        topics.audit_dlq,
        group_id=f"{group}-raw",
        auto_offset_reset="earliest",
        **aiokafka_options(settings),
    )
    await broker.start()
    await producer.start()
    await consumer.start()
    try:
        await producer.send_and_wait(topics.audit, b"raw over TLS")
        assert await asyncio.wait_for(received, 30) == b"raw over TLS"
        await broker.publish(b"faststream over TLS", topics.audit_dlq)
        record = await asyncio.wait_for(consumer.getone(), 30)
        assert record.value == b"faststream over TLS"
    finally:
        await consumer.stop()
        await producer.stop()
        await broker.stop()


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-512", "PLAIN"])
async def test_services_clients_produce_and_consume_over_sasl_ssl(
    infra: InfraUrls, tls: KafkaTls, unique_name: str, mechanism: Literal["PLAIN", "SCRAM-SHA-512"]
) -> None:
    settings = _sasl_ssl(infra, mechanism, tls.ca_file, f"{unique_name}.")
    assert aiokafka_options(settings)["security_protocol"] == "SASL_SSL"
    await _round_trip(settings, unique_name)


async def test_a_client_that_does_not_trust_the_brokers_ca_is_refused(
    infra: InfraUrls, tls: KafkaTls, tmp_path: Path, unique_name: str
) -> None:
    other_ca = kafka_tls.ensure(KafkaTls(tmp_path / "other-ca")).ca_file
    for ca_file in (other_ca, None):  # another CA; the system's CAs
        settings = _sasl_ssl(infra, "SCRAM-SHA-512", ca_file, f"{unique_name}.")
        context = settings.kafka_ssl_context()
        assert context is not None
        with pytest.raises(ssl.SSLCertVerificationError, match="certificate verify failed"):
            await _handshake(infra.kafka_tls_bootstrap, context)
        producer = AIOKafkaProducer(request_timeout_ms=5000, **aiokafka_options(settings))
        with pytest.raises(KafkaConnectionError):
            await producer.start()
        await producer.stop()


async def test_the_brokers_host_name_is_checked(infra: InfraUrls, tls: KafkaTls) -> None:
    """A certificate of the right CA for another host is refused too: no man in the middle with
    any certificate the CA signed."""
    settings = _sasl_ssl(infra, "SCRAM-SHA-512", tls.ca_file, "")
    context = settings.kafka_ssl_context()
    assert context is not None
    await _handshake(infra.kafka_tls_bootstrap, context)
    with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"):
        await _handshake(infra.kafka_tls_bootstrap, context, server_hostname="kafka.example.com")


async def test_services_clients_sign_in_with_a_client_certificate(
    infra: InfraUrls, tls: KafkaTls, tmp_path: Path, unique_name: str
) -> None:
    """Mutual TLS (Aiven's default): the broker takes the certificate's CN as the user, so the
    same ACLs hold; without a certificate the broker refuses the client."""
    assert infra.kafka_sasl is not None
    key, certificate = kafka_tls.issue(tls, infra.kafka_sasl[0])
    (tmp_path / "client.pem").write_bytes(certificate)
    (tmp_path / "client-key.pem").write_bytes(key)
    common: dict[str, Any] = {
        "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_mtls_bootstrap,
        "KAFKA_SECURITY_PROTOCOL": "SSL",
        "KAFKA_SSL_CA_FILE": tls.ca_file,
        "KAFKA_TOPIC_PREFIX": f"{unique_name}.",
    }
    settings = KafkaSettings(
        **common,
        KAFKA_SSL_CERT_FILE=tmp_path / "client.pem",
        KAFKA_SSL_KEY_FILE=tmp_path / "client-key.pem",
    )
    assert aiokafka_options(settings)["security_protocol"] == "SSL"
    await _round_trip(settings, unique_name)

    without_certificate = AIOKafkaProducer(
        request_timeout_ms=5000, **aiokafka_options(KafkaSettings(**common))
    )
    with pytest.raises(KafkaConnectionError):
        await without_certificate.start()
    await without_certificate.stop()


async def _handshake(
    bootstrap: str | None, context: ssl.SSLContext, server_hostname: str | None = None
) -> None:
    assert bootstrap is not None
    host, port = bootstrap.rsplit(":", 1)
    _, writer = await asyncio.wait_for(
        asyncio.open_connection(host, int(port), ssl=context, server_hostname=server_hostname),
        10,
    )
    writer.close()
