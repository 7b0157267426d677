"""Settings pieces shared by every service.

Each service composes one ``BaseSettings`` subclass from these mixins, builds it once in its
entry point and passes it down. Values come from the process environment only: the local stack
and compose load ``.env`` into that environment, so a stray variable for another service can
never trip ``extra="forbid"``. A field reads exactly its own variable (``env``), never the
variable its field name spells: the gateway's ``rate_limit_per_ip_per_min`` is
``RATE_LIMIT_PER_IP_PER_MIN``, and a service's field of the same name must not read it. Code
(tests) may still pass a field by its name.
"""

from __future__ import annotations

import ssl
import sys
from ipaddress import ip_address, ip_network
from typing import Any, Literal, Self, TypeVar

from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512
from pydantic import (
    AliasChoices,
    Field,
    FilePath,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

Environment = Literal["development", "test", "production"]

# Values committed in .env.example. Production refuses to start while any secret still has one.
DEVELOPMENT_SECRETS = frozenset(
    {
        "dev-only-admin-password",
        "dev-only-viewer-password",
        "dev-only-change-me",
        "dev-only-postgres-password",
    }
)


def env(name: str) -> AliasChoices:
    """Reads a field from exactly this environment variable (and its field name in code)."""
    return AliasChoices(name)


class _OwnVariablesOnly(EnvSettingsSource):
    """The process environment, read through each field's own variable only: never through its
    field name, which may spell another service's variable (``populate_by_name`` would)."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        self.config = {**self.config, "validate_by_name": False, "populate_by_name": False}


def rate_limit_field(prefix: str, default: int) -> Any:
    """A service's own per-address rate limit (``orderhub_common.ratelimit``), read from
    ``<PREFIX>_RATE_LIMIT_PER_IP_PER_MIN``: each service has its own variable and default."""
    return Field(
        default,
        ge=1,
        le=1_000_000,
        validation_alias=env(f"{prefix}_RATE_LIMIT_PER_IP_PER_MIN"),
        description=(
            "requests per client address per minute the service takes from callers that reach "
            "it without the gateway (429 beyond; what a trusted proxy relays was limited at the "
            "edge; health and metrics are never limited)"
        ),
    )


class ServiceSettings(BaseSettings):
    # validate_by_name: code may pass a field by its name; the environment may not
    # (settings_customise_sources).
    model_config = SettingsConfigDict(
        extra="forbid", validate_by_name=True, validate_default=True, frozen=True
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, _OwnVariablesOnly(settings_cls)

    environment: Environment = Field(
        "development",
        validation_alias=env("ORDERHUB_ENV"),
        description=(
            "development, test or production; production refuses development "
            "secrets and needs JWT_PRIVATE_KEYS"
        ),
    )
    host: str = Field(
        "127.0.0.1",
        validation_alias=env("BIND_HOST"),
        description="the address the service listens on (0.0.0.0 in containers)",
    )
    log_level: str = Field(
        "INFO",
        validation_alias=env("LOG_LEVEL"),
        description="the lowest level logged (DEBUG, INFO, WARNING, ERROR)",
    )
    shutdown_timeout_s: float = Field(
        15.0,
        gt=0,
        le=300,
        validation_alias=env("SHUTDOWN_TIMEOUT_S"),
        description="how long a stopping service drains its requests and workers after SIGTERM",
    )
    # The proxies whose X-Forwarded-For names the client (comma-separated addresses or networks,
    # "*" for any, empty for none): the gateway on loopback, for the services behind it. The one
    # setting every client-address decision reads (see ``create_service_app``).
    # Empty by default: a service trusts only the proxies it is told of (the local stack and
    # compose name the gateway's address), never whatever runs on its own host.
    forwarded_allow_ips: str = Field(
        "",
        validation_alias=env("FORWARDED_ALLOW_IPS"),
        description=(
            "the proxies (addresses or networks, comma-separated, * for any) whose "
            "X-Forwarded-For names the client; empty: none"
        ),
    )
    # /metrics tells how the service is used: only the monitoring network, or Prometheus with
    # its token, reads it (the client's address as resolved behind the trusted proxies).
    metrics_allow_ips: str = Field(
        "127.0.0.1,::1",
        validation_alias=env("METRICS_ALLOW_IPS"),
        description=(
            "the addresses or networks (comma-separated) that may read /metrics without "
            "METRICS_TOKEN"
        ),
    )
    metrics_token: SecretStr | None = Field(
        None,
        validation_alias=env("METRICS_TOKEN"),
        description=(
            "a bearer token that reads /metrics from any address (Prometheus' "
            "authorization); unset: only the allowed addresses read it"
        ),
    )
    # Limits every service enforces itself, for callers that reach it without the gateway.
    max_request_header_bytes: int = Field(
        16_384,
        ge=1024,
        le=1_048_576,
        validation_alias=env("MAX_REQUEST_HEADER_BYTES"),
        description="the largest request head a service accepts (431 above it)",
    )
    max_request_body_bytes: int = Field(
        1_048_576,
        ge=1024,
        le=50_000_000,
        validation_alias=env("MAX_REQUEST_BODY_BYTES"),
        description="the largest request body a service accepts (413 above it)",
    )
    startup_timeout_s: float = Field(
        60.0,
        gt=0,
        le=600,
        validation_alias=env("STARTUP_TIMEOUT_S"),
        description="how long the pre-flight waits for the service's dependencies at start",
    )

    @field_validator("forwarded_allow_ips", "metrics_allow_ips")
    @classmethod
    def _proxies_are_addresses_or_networks(cls, value: str) -> str:
        # uvicorn would take a typo for a host name and silently trust nobody: refuse it here.
        entries = [entry.strip() for entry in value.split(",") if entry.strip()]
        for entry in entries:
            if entry == "*":
                continue
            try:
                ip_network(entry) if "/" in entry else ip_address(entry)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or network") from None
        return ",".join(entries)

    @model_validator(mode="after")
    def _production_refuses_development_secrets(self) -> ServiceSettings:
        if self.environment != "production":
            return self
        for name, value in self:
            # A secret may sit inside a URL (a database password): look for it anywhere.
            if isinstance(value, SecretStr) and any(
                secret in value.get_secret_value() for secret in DEVELOPMENT_SECRETS
            ):
                raise ValueError(
                    f"{name} still has its development default; set a real secret for production"
                )
        return self


KafkaSecurityProtocol = Literal["PLAINTEXT", "SASL_PLAINTEXT", "SSL", "SASL_SSL"]
_TLS_PROTOCOLS = frozenset({"SSL", "SASL_SSL"})
_SASL_PROTOCOLS = frozenset({"SASL_PLAINTEXT", "SASL_SSL"})


class KafkaSettings(BaseSettings):
    kafka_bootstrap_servers: str = Field(
        "127.0.0.1:9092",
        validation_alias=env("KAFKA_BOOTSTRAP_SERVERS"),
        description="the Kafka brokers to connect to (host:port, comma-separated)",
    )
    kafka_topic_prefix: str = Field(
        "",
        validation_alias=env("KAFKA_TOPIC_PREFIX"),
        pattern=r"^[A-Za-z0-9._-]*$",
        description="prepended to every topic name (tests share one broker this way)",
    )
    kafka_partitions: int = Field(
        12,
        ge=1,
        le=256,
        validation_alias=env("KAFKA_PARTITIONS"),
        description=(
            "partitions of orders.ingested.v1 and orders.events.v1 when a service creates them"
        ),
    )
    # One broker locally; three in production, where Strimzi's KafkaTopic resources create the
    # topics with the same numbers (deploy/kubernetes/stateful, checked against these settings).
    kafka_topic_replication_factor: int = Field(
        1,
        ge=1,
        le=16,
        validation_alias=env("KAFKA_TOPIC_REPLICATION_FACTOR"),
        description="replicas of every topic when a service creates them (3 in production)",
    )
    kafka_topic_min_insync_replicas: int = Field(
        1,
        ge=1,
        le=16,
        validation_alias=env("KAFKA_TOPIC_MIN_INSYNC_REPLICAS"),
        description=(
            "in-sync replicas every topic needs to take a write (min.insync.replicas; 2 in "
            "production, at most KAFKA_TOPIC_REPLICATION_FACTOR)"
        ),
    )
    # Unset: SASL_PLAINTEXT with a KAFKA_SASL_MECHANISM, PLAINTEXT without (the local stack).
    kafka_security_protocol: KafkaSecurityProtocol | None = Field(
        None,
        validation_alias=env("KAFKA_SECURITY_PROTOCOL"),
        description=(
            "PLAINTEXT, SASL_PLAINTEXT, SSL or SASL_SSL (managed Kafka: SASL_SSL, or SSL with a "
            "client certificate); unset: SASL_PLAINTEXT with KAFKA_SASL_MECHANISM, else PLAINTEXT"
        ),
    )
    # Unset: the broker takes clients without credentials (or knows them by their certificate).
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = Field(
        None,
        validation_alias=env("KAFKA_SASL_MECHANISM"),
        description="SASL mechanism for Kafka (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512); unset: none",
    )
    kafka_sasl_username: str | None = Field(
        None,
        validation_alias=env("KAFKA_SASL_USERNAME"),
        description="the Kafka SASL user (with KAFKA_SASL_MECHANISM)",
    )
    kafka_sasl_password: SecretStr | None = Field(
        None,
        validation_alias=env("KAFKA_SASL_PASSWORD"),
        description="the Kafka SASL user's password (with KAFKA_SASL_MECHANISM)",
    )
    # TLS (SSL, SASL_SSL): the broker's certificate is always verified, its host name included.
    kafka_ssl_ca_file: FilePath | None = Field(
        None,
        validation_alias=env("KAFKA_SSL_CA_FILE"),
        description=(
            "PEM file of the CAs that sign the brokers' certificates (SSL, SASL_SSL); unset: the "
            "system's trusted CAs"
        ),
    )
    kafka_ssl_cert_file: FilePath | None = Field(
        None,
        validation_alias=env("KAFKA_SSL_CERT_FILE"),
        description="PEM file of the client certificate (chain) for mutual TLS; unset: none",
    )
    kafka_ssl_key_file: FilePath | None = Field(
        None,
        validation_alias=env("KAFKA_SSL_KEY_FILE"),
        description=(
            "PEM file of the client certificate's private key; unset: in KAFKA_SSL_CERT_FILE"
        ),
    )
    kafka_ssl_key_password: SecretStr | None = Field(
        None,
        validation_alias=env("KAFKA_SSL_KEY_PASSWORD"),
        description="the password of an encrypted KAFKA_SSL_KEY_FILE; unset: not encrypted",
    )
    kafka_allow_plaintext: bool = Field(
        False,
        validation_alias=env("KAFKA_ALLOW_PLAINTEXT"),
        description=(
            "lets production talk to Kafka without TLS (PLAINTEXT, SASL_PLAINTEXT), for a broker "
            "on a private network only"
        ),
    )

    @property
    def kafka_protocol(self) -> KafkaSecurityProtocol:
        """The security protocol in effect (KAFKA_SECURITY_PROTOCOL, or what its default means)."""
        if self.kafka_security_protocol is not None:
            return self.kafka_security_protocol
        return "SASL_PLAINTEXT" if self.kafka_sasl_mechanism else "PLAINTEXT"

    @model_validator(mode="after")
    def _kafka_security_is_consistent(self) -> Self:
        protocol = self.kafka_protocol
        if protocol in _SASL_PROTOCOLS and not self.kafka_sasl_mechanism:
            raise ValueError(f"KAFKA_SECURITY_PROTOCOL={protocol} needs KAFKA_SASL_MECHANISM")
        if protocol not in _SASL_PROTOCOLS and self.kafka_sasl_mechanism:
            raise ValueError(
                f"KAFKA_SASL_MECHANISM needs KAFKA_SECURITY_PROTOCOL SASL_SSL or SASL_PLAINTEXT, "
                f"not {protocol}"
            )
        if self.kafka_sasl_mechanism and not (
            self.kafka_sasl_username and self.kafka_sasl_password
        ):
            raise ValueError(
                "KAFKA_SASL_MECHANISM needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"
            )
        tls_options = {
            "KAFKA_SSL_CA_FILE": self.kafka_ssl_ca_file,
            "KAFKA_SSL_CERT_FILE": self.kafka_ssl_cert_file,
            "KAFKA_SSL_KEY_FILE": self.kafka_ssl_key_file,
            "KAFKA_SSL_KEY_PASSWORD": self.kafka_ssl_key_password,
        }
        given = [name for name, value in tls_options.items() if value is not None]
        if given and protocol not in _TLS_PROTOCOLS:
            raise ValueError(
                f"{', '.join(given)} need KAFKA_SECURITY_PROTOCOL SSL or SASL_SSL, not {protocol}"
            )
        if (self.kafka_ssl_key_file or self.kafka_ssl_key_password) and not (
            self.kafka_ssl_cert_file
        ):
            raise ValueError(
                "KAFKA_SSL_KEY_FILE and KAFKA_SSL_KEY_PASSWORD need KAFKA_SSL_CERT_FILE"
            )
        # Production talks to Kafka over TLS, unless told the broker sits on a private network.
        if (
            getattr(self, "environment", None) == "production"
            and protocol not in _TLS_PROTOCOLS
            and not self.kafka_allow_plaintext
        ):
            raise ValueError(
                f"KAFKA_SECURITY_PROTOCOL={protocol} sends Kafka traffic unencrypted; production "
                "needs SSL or SASL_SSL, or KAFKA_ALLOW_PLAINTEXT=true for a broker on a private "
                "network"
            )
        # Files that do not load fail here, at start, not at the first connection.
        self.kafka_ssl_context()
        return self

    @model_validator(mode="after")
    def _min_insync_replicas_can_be_met(self) -> Self:
        # Otherwise every acks=all write to the topics would be refused (NotEnoughReplicas).
        if self.kafka_topic_min_insync_replicas > self.kafka_topic_replication_factor:
            raise ValueError(
                "KAFKA_TOPIC_MIN_INSYNC_REPLICAS cannot exceed KAFKA_TOPIC_REPLICATION_FACTOR"
            )
        return self

    def kafka_ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context of SSL and SASL_SSL (None for the others): the broker's certificate
        checked against KAFKA_SSL_CA_FILE (or the system's CAs), host name included, and the
        client certificate if there is one."""
        if self.kafka_protocol not in _TLS_PROTOCOLS:
            return None
        ca_file = self.kafka_ssl_ca_file
        try:
            # CERT_REQUIRED and check_hostname, TLS 1.2 at least: never turned off here.
            context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        except ssl.SSLError as exc:
            raise ValueError(f"KAFKA_SSL_CA_FILE {ca_file} holds no usable CA: {exc}") from None
        if self.kafka_ssl_cert_file is not None:
            password = self.kafka_ssl_key_password
            try:
                context.load_cert_chain(
                    self.kafka_ssl_cert_file,
                    self.kafka_ssl_key_file,
                    password.get_secret_value() if password else None,
                )
            except ssl.SSLError as exc:
                raise ValueError(
                    "KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE do not load as a certificate and "
                    f"its key (is KAFKA_SSL_KEY_PASSWORD right?): {exc}"
                ) from None
        return context

    def kafka_security(self) -> BaseSecurity | None:
        """The client's security FastStream (and, through ``parse_security``, aiokafka) use: the
        protocol, its SASL credentials and its TLS context."""
        ssl_context = self.kafka_ssl_context()
        mechanism, username, password = (
            self.kafka_sasl_mechanism,
            self.kafka_sasl_username,
            self.kafka_sasl_password,
        )
        if not (mechanism and username and password):  # all or none: checked above
            return BaseSecurity(ssl_context) if ssl_context else None
        kind = {
            "PLAIN": SASLPlaintext,
            "SCRAM-SHA-256": SASLScram256,
            "SCRAM-SHA-512": SASLScram512,
        }[mechanism]
        return kind(username, password.get_secret_value(), ssl_context=ssl_context)


class MongoSettings(BaseSettings):
    mongodb_url: SecretStr = Field(
        SecretStr("mongodb://127.0.0.1:27017"),
        validation_alias=env("MONGODB_URL"),
        description="the MongoDB connection string, credentials included",
    )


class RedisSettings(BaseSettings):
    redis_url: SecretStr = Field(
        SecretStr("redis://127.0.0.1:6379/0"),
        validation_alias=env("REDIS_URL"),
        description="the Redis connection string (redis://user:password@host:port/db)",
    )


S = TypeVar("S", bound=BaseSettings)


def load_settings(settings_class: type[S]) -> S:
    """Builds settings from the environment, or exits with one clear line per bad variable."""
    try:
        return settings_class()
    except ValidationError as exc:
        for error in exc.errors():
            variable = ".".join(str(part) for part in error["loc"]) or "settings"
            print(
                f"configuration error: {variable.upper()}: {error['msg']}",
                file=sys.stderr,
            )
        raise SystemExit(2) from None
