"""The local broker's TLS: a CA of the profile's own, generated at start, and the certificates it
signs (the broker's, for its TLS listeners; clients', for mutual TLS).

The CA lives in the profile's secrets (``<data>/secrets/kafka-tls``, 0700; its key 0600): the
test profile, wiped at every start, gets a new one each time; the local profile keeps the one it
made on its first start. The broker's certificate names 127.0.0.1 and localhost (the addresses it
advertises), so clients verify it, host name included, against ``ca.pem`` alone.

Kafka reads PEM directly (``ssl.keystore.type=PEM``): ``broker.pem`` holds the broker's key and
its certificate chain, ``ca.pem`` is its trust store (the CA that signs the clients of mutual TLS).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_DAY = datetime.timedelta(days=1)


@dataclass(frozen=True)
class KafkaTls:
    """The files of one profile's Kafka TLS, in ``folder``."""

    folder: Path

    @property
    def ca_file(self) -> Path:
        return self.folder / "ca.pem"

    @property
    def ca_key_file(self) -> Path:
        return self.folder / "ca-key.pem"

    @property
    def broker_file(self) -> Path:
        """The broker's key and certificate chain in one file (Kafka's PEM key store)."""
        return self.folder / "broker.pem"


def folder(data_dir: Path) -> KafkaTls:
    return KafkaTls(data_dir / "secrets" / "kafka-tls")


def ensure(tls: KafkaTls) -> KafkaTls:
    """The CA (made if missing) and a broker certificate freshly signed by it."""
    # The profile's secrets folder too: 0700, as devstack.credentials makes it.
    for private in (tls.folder.parent, tls.folder):
        private.mkdir(mode=0o700, exist_ok=True)
        private.chmod(0o700)
    if not (tls.ca_file.exists() and tls.ca_key_file.exists()):
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Order Hub local Kafka CA")])
        now = datetime.datetime.now(datetime.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _DAY)
            .not_valid_after(now + 3650 * _DAY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .sign(key, hashes.SHA256())
        )
        _write_private(tls.ca_key_file, _key_pem(key))
        tls.ca_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_pem, certificate_pem = issue(
        tls,
        "localhost",
        hosts=("localhost", "127.0.0.1", "::1"),
        usage=ExtendedKeyUsageOID.SERVER_AUTH,
    )
    _write_private(tls.broker_file, key_pem + certificate_pem)
    return tls


def issue(
    tls: KafkaTls,
    common_name: str,
    *,
    hosts: tuple[str, ...] = (),
    usage: x509.ObjectIdentifier = ExtendedKeyUsageOID.CLIENT_AUTH,
) -> tuple[bytes, bytes]:
    """A new key and its certificate (PEM, unencrypted key in PKCS#8) signed by the CA, for
    ``common_name`` (a client of mutual TLS: the broker takes the CN as its user name)."""
    ca_key = serialization.load_pem_private_key(tls.ca_key_file.read_bytes(), password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{tls.ca_key_file} is not the CA's EC key")
    ca = x509.load_pem_x509_certificate(tls.ca_file.read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _DAY)
        .not_valid_after(now + 365 * _DAY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
    )
    if hosts:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([_general_name(host) for host in hosts]), critical=False
        )
    certificate = builder.sign(ca_key, hashes.SHA256())
    return _key_pem(key), certificate.public_bytes(serialization.Encoding.PEM)


def _general_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write_private(path: Path, content: bytes) -> None:
    """Written 0600 from the first byte: a key never sits readable by others."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(content)
