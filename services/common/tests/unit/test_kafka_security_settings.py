"""The Kafka connection a service builds from its settings: each security protocol and SASL
mechanism, the CA bundle and client certificate of TLS (managed Kafka), and a clear settings
error, at start, for whatever does not fit together or does not load."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from devstack import kafka_tls
from devstack.kafka_tls import KafkaTls
from orderhub_common.kafka import aiokafka_options
from orderhub_common.settings import KafkaSettings, ServiceSettings, load_settings

pytestmark = pytest.mark.unit

SASL = {"KAFKA_SASL_USERNAME": "orders", "KAFKA_SASL_PASSWORD": "s3cret"}


class ProductionSettings(ServiceSettings, KafkaSettings):
    """A service's settings, as each service composes them."""


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> KafkaTls:
    return kafka_tls.ensure(KafkaTls(tmp_path_factory.mktemp("data") / "kafka-tls"))


@pytest.fixture
def client_files(tls: KafkaTls, tmp_path: Path) -> tuple[Path, Path]:
    key, certificate = kafka_tls.issue(tls, "orders")
    (tmp_path / "client.pem").write_bytes(certificate)
    (tmp_path / "client-key.pem").write_bytes(key)
    return tmp_path / "client.pem", tmp_path / "client-key.pem"


@pytest.mark.parametrize(
    ("variables", "protocol", "mechanism"),
    [
        ({}, "PLAINTEXT", None),
        ({"KAFKA_SECURITY_PROTOCOL": "PLAINTEXT"}, "PLAINTEXT", None),
        # Before KAFKA_SECURITY_PROTOCOL a mechanism alone meant SASL over plaintext; it still does.
        ({"KAFKA_SASL_MECHANISM": "PLAIN", **SASL}, "SASL_PLAINTEXT", "PLAIN"),
        (
            {"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KAFKA_SASL_MECHANISM": "SCRAM-SHA-256"}
            | SASL,
            "SASL_PLAINTEXT",
            "SCRAM-SHA-256",
        ),
        ({"KAFKA_SECURITY_PROTOCOL": "SSL"}, "SSL", None),
        (
            {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512"} | SASL,
            "SASL_SSL",
            "SCRAM-SHA-512",
        ),
        (
            {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "PLAIN"} | SASL,
            "SASL_SSL",
            "PLAIN",
        ),
    ],
)
def test_each_protocol_and_mechanism_reaches_the_clients(
    variables: dict[str, Any], protocol: str, mechanism: str | None
) -> None:
    options = aiokafka_options(KafkaSettings(**variables))
    assert options.get("security_protocol", "PLAINTEXT") == protocol
    assert options.get("sasl_mechanism") == mechanism
    if mechanism:
        assert (options["sasl_plain_username"], options["sasl_plain_password"]) == (
            "orders",
            "s3cret",
        )
    context = options.get("ssl_context")
    if protocol.endswith("SSL"):
        # The broker's certificate is verified, its host name included (the system's CAs here).
        assert isinstance(context, ssl.SSLContext)
        assert context.verify_mode == ssl.CERT_REQUIRED
        assert context.check_hostname
    else:
        assert context is None


def test_the_ca_bundle_is_the_only_trust(tls: KafkaTls) -> None:
    settings = KafkaSettings(KAFKA_SECURITY_PROTOCOL="SSL", KAFKA_SSL_CA_FILE=tls.ca_file)
    context = aiokafka_options(settings)["ssl_context"]
    assert [dict(part[0] for part in ca["subject"]) for ca in context.get_ca_certs()] == [
        {"commonName": "Order Hub local Kafka CA"}
    ]
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname


def test_a_client_certificate_loads_with_its_key(
    tls: KafkaTls, client_files: tuple[Path, Path], tmp_path: Path
) -> None:
    certificate, key = client_files
    base = {"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_CA_FILE": tls.ca_file}
    assert KafkaSettings(**base, KAFKA_SSL_CERT_FILE=certificate, KAFKA_SSL_KEY_FILE=key)
    # One file holding both, as some providers hand them out.
    both = tmp_path / "both.pem"
    both.write_bytes(key.read_bytes() + certificate.read_bytes())
    assert KafkaSettings(**base, KAFKA_SSL_CERT_FILE=both)
    # An encrypted key, with its password; the wrong password is a settings error.
    private = serialization.load_pem_private_key(key.read_bytes(), password=None)
    encrypted = tmp_path / "encrypted-key.pem"
    encrypted.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"key-password"),
        )
    )
    files = {"KAFKA_SSL_CERT_FILE": certificate, "KAFKA_SSL_KEY_FILE": encrypted}
    assert KafkaSettings(**base, **files, KAFKA_SSL_KEY_PASSWORD="key-password")
    with pytest.raises(ValueError, match="KAFKA_SSL_KEY_PASSWORD"):
        KafkaSettings(**base, **files, KAFKA_SSL_KEY_PASSWORD="wrong")
    # Another certificate's key does not go with this certificate.
    other_key, _ = kafka_tls.issue(tls, "gateway")
    (tmp_path / "other-key.pem").write_bytes(other_key)
    with pytest.raises(ValueError, match="do not load as a certificate and its key"):
        KafkaSettings(
            **base, KAFKA_SSL_CERT_FILE=certificate, KAFKA_SSL_KEY_FILE=tmp_path / "other-key.pem"
        )


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}, "needs KAFKA_SASL_MECHANISM"),
        (
            {"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SASL_MECHANISM": "PLAIN"} | SASL,
            "KAFKA_SASL_MECHANISM needs KAFKA_SECURITY_PROTOCOL SASL_SSL or SASL_PLAINTEXT",
        ),
        (
            {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "PLAIN"},
            "needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD",
        ),
        (
            {"KAFKA_SASL_MECHANISM": "PLAIN", "KAFKA_SSL_CA_FILE": "CA"} | SASL,
            "KAFKA_SSL_CA_FILE need KAFKA_SECURITY_PROTOCOL SSL or SASL_SSL, not SASL_PLAINTEXT",
        ),
        (
            {"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_KEY_FILE": "CA"},
            "need KAFKA_SSL_CERT_FILE",
        ),
    ],
)
def test_settings_that_do_not_fit_together_are_refused(
    variables: dict[str, Any], message: str, tls: KafkaTls
) -> None:
    # "CA": any file that exists, so the check is the combination's, not the file's.
    filled = {key: tls.ca_file if value == "CA" else value for key, value in variables.items()}
    with pytest.raises(ValueError, match=message):
        KafkaSettings(**filled)


@pytest.mark.parametrize("variable", ["KAFKA_SSL_CA_FILE", "KAFKA_SSL_CERT_FILE"])
def test_a_missing_or_unreadable_file_is_a_clear_settings_error(
    variable: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SSL")
    monkeypatch.setenv(variable, str(tmp_path / "missing.pem"))
    with pytest.raises(SystemExit):
        load_settings(KafkaSettings)
    assert f"configuration error: {variable}: Path does not point to a file" in (
        capsys.readouterr().err
    )
    # A file that is there but holds no certificate fails at start too, not at the first
    # connection.
    (tmp_path / "not-pem.pem").write_text("not a certificate\n")
    with pytest.raises(ValueError, match=variable):
        KafkaSettings(KAFKA_SECURITY_PROTOCOL="SSL", **{variable: tmp_path / "not-pem.pem"})


def test_production_talks_to_kafka_over_tls_unless_told_the_network_is_private(
    tls: KafkaTls,
) -> None:
    production: dict[str, Any] = {"ORDERHUB_ENV": "production"}
    for plaintext in ({}, {"KAFKA_SASL_MECHANISM": "SCRAM-SHA-512"} | SASL):
        with pytest.raises(ValueError, match="production needs SSL or SASL_SSL"):
            ProductionSettings(**production, **plaintext)
        allowed = ProductionSettings(**production, **plaintext, KAFKA_ALLOW_PLAINTEXT=True)
        assert allowed.kafka_protocol in {"PLAINTEXT", "SASL_PLAINTEXT"}
    over_tls = ProductionSettings(
        **production,
        KAFKA_SECURITY_PROTOCOL="SASL_SSL",
        KAFKA_SASL_MECHANISM="SCRAM-SHA-512",
        KAFKA_SSL_CA_FILE=tls.ca_file,
        **SASL,
    )
    assert aiokafka_options(over_tls)["security_protocol"] == "SASL_SSL"
    # Development and tests keep the local stack's plaintext listener.
    assert ProductionSettings(ORDERHUB_ENV="development").kafka_protocol == "PLAINTEXT"
