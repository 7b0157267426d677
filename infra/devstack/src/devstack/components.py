"""Every component of the local stack in one table: what it is, how it runs, when it is ready.

A row (``Component``) holds all the stack knows about one component: its port and the variable
that overrides it, its data directory, its first-start work with side effects (``prepare``:
installs, storage formatting, initdb), its command line (``argv``: no side effects, so the
supervisord configuration can be rewritten at any time), its readiness check, what must happen
once it is ready (``provision``, idempotent), and how supervisord stops it. The stack starts
components in the table's order (the infrastructure, then the services) and supervisord stops
them in reverse ``priority``.
"""

from __future__ import annotations

import base64
import shutil
import signal
import sys
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from devstack import credentials, install, kafka_tls, postgres
from devstack.processes import http_ok, port_open
from devstack.steps import say, step


@dataclass(frozen=True)
class Site:
    """Where one component runs in one profile: what its command, checks and setup come from."""

    name: str
    port: int
    ports: Mapping[str, int]
    data_dir: Path | None
    run_dir: Path
    environment: Mapping[str, str]
    # False for data that is wiped at every start (the test profile): flushing it buys nothing.
    durable: bool


@dataclass(frozen=True)
class Port:
    """A port some component listens on, and the variable that overrides it locally."""

    name: str
    variable: str
    default: int


@dataclass(frozen=True)
class Component:
    name: str
    port_variable: str
    default_port: int
    argv: Callable[[Site], list[str]]
    is_ready: Callable[[Site], bool]
    is_service: bool = False
    # A directory of this name under the profile's data directory, created before ``prepare``.
    data_dir: str | None = None
    prepare: Callable[[Site], None] | None = None
    provision: Callable[[Site], None] | None = None
    stop_signal: signal.Signals = signal.SIGTERM
    stop_wait_s: int = 40
    # Signal the whole process group; False when the process stops its own children.
    stop_process_group: bool = True
    priority: int = 100
    extra_ports: tuple[Port, ...] = ()
    # The Kafka user the process signs in as: its own, held to its ACLs (None: no Kafka).
    kafka_user: str | None = None

    @property
    def ports(self) -> tuple[Port, ...]:
        return (Port(self.name, self.port_variable, self.default_port), *self.extra_ports)


def _port_accepts(site: Site) -> bool:
    return port_open(site.port)


def _data(site: Site) -> Path:
    if site.data_dir is None:
        raise ValueError(f"{site.name} has no data directory")
    return site.data_dir


# Kafka -------------------------------------------------------------------------------------------
def _kafka_properties(site: Site) -> Path:
    return site.run_dir / "kafka-server.properties"


def _kafka_java(site: Site) -> list[str]:
    return [
        "java",
        "-Xms256m",
        "-Xmx768m",
        "-XX:+UseG1GC",
        f"-Dlog4j2.configurationFile={install.REPO / 'infra' / 'kafka' / 'log4j2.yaml'}",
        "-cp",
        install.KAFKA_CLASSPATH,
    ]


def _kafka_tls(site: Site) -> kafka_tls.KafkaTls:
    return kafka_tls.folder(_data(site).parent)


def _kafka_prepare(site: Site) -> None:
    install.kafka_classpath()
    tls = kafka_tls.ensure(_kafka_tls(site))
    template = (install.REPO / "infra" / "kafka" / "server.properties.template").read_text()
    properties = _kafka_properties(site)
    # It holds the SASL user's password: the owner's alone.
    properties.touch(mode=0o600)
    properties.chmod(0o600)
    properties.write_text(
        template.format(
            port=site.port,
            tls_port=site.ports["kafka_tls"],
            mtls_port=site.ports["kafka_mtls"],
            controller_port=site.ports["kafka_controller"],
            data_dir=_data(site),
            jaas=credentials.kafka_jaas(site.environment),
            controller_jaas=credentials.kafka_controller_jaas(site.environment),
            super_user=site.environment["KAFKA_SASL_USERNAME"],
            tls_broker_file=tls.broker_file,
            tls_ca_file=tls.ca_file,
        )
    )
    if not (_data(site) / "meta.properties").exists():
        with step("formatting Kafka storage (KRaft, first start only)"):
            install.run_checked(
                *_kafka_java(site),
                "kafka.tools.StorageTool",
                "format",
                "-t",
                kafka_cluster_id(),
                "-c",
                _kafka_properties(site),
                *credentials.kafka_scram_arguments(site.environment),
            )


def kafka_cluster_id(random_bytes: Callable[[], bytes] = lambda: uuid.uuid4().bytes) -> str:
    """A base64url-encoded UUID without padding, as Kafka wants its cluster id, never starting
    with "-": the storage tool would read such an id as an option and refuse to format (one in
    64 first starts). Kafka's own ``Uuid.randomUuid`` draws again for the same reason."""
    while True:
        cluster_id = base64.urlsafe_b64encode(random_bytes()).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def _kafka_argv(site: Site) -> list[str]:
    return [*_kafka_java(site), "kafka.Kafka", str(_kafka_properties(site))]


def _kafka_provision(site: Site) -> None:
    """The contract's topics and every service user's ACLs (``orderhub_common.kafka_access``),
    created by the broker's own user; at every start, since creating what exists changes
    nothing."""
    environment = {key: value for key, value in site.environment.items() if key in _KAFKA_SETTINGS}
    install.run_checked(
        sys.executable,
        "-m",
        "orderhub_common.kafka_access",
        env=environment
        | {"KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{site.port}", "KAFKA_SASL_MECHANISM": "PLAIN"},
    )


# What of the profile's environment the provisioning reads (the broker's own user among it).
_KAFKA_SETTINGS = {
    "KAFKA_TOPIC_PREFIX",
    "KAFKA_PARTITIONS",
    "KAFKA_SASL_USERNAME",
    "KAFKA_SASL_PASSWORD",
}


# MongoDB wire protocol: a real mongod if one is on PATH, else FerretDB on SQLite -----------------
def runs_ferretdb() -> bool:
    """FerretDB is the store unless a mongod is on the PATH (that one runs without users)."""
    return shutil.which("mongod") is None


def _mongodb_prepare(site: Site) -> None:
    if runs_ferretdb():
        install.ferretdb_binary()


def _mongodb_argv(site: Site) -> list[str]:
    mongod = shutil.which("mongod")
    if mongod is not None:
        return [
            mongod,
            "--dbpath",
            str(_data(site)),
            "--port",
            str(site.port),
            "--bind_ip",
            "127.0.0.1",
        ]
    return [
        str(install.FERRETDB_BIN),
        "--handler=sqlite",
        f"--sqlite-url=file:{_data(site)}/",
        f"--state-dir={_data(site)}",
        f"--listen-addr=127.0.0.1:{site.port}",
        "--telemetry=disable",
        "--log-level=warn",
        "--debug-addr=-",
        # SCRAM users in its own admin database; every command but the handshake needs one.
        # The user is created on the first start from FERRETDB_SETUP_PASSWORD (the environment
        # keeps the password off the command line).
        "--test-enable-new-auth",
        "--setup-database=admin",
        f"--setup-username={site.environment['MONGODB_USERNAME']}",
    ]


# PostgreSQL (the orders query side) ------------------------------------------------------------
def _postgres_prepare(site: Site) -> None:
    postgres.prepare(_data(site), user=postgres.server_user(), durable=site.durable)


def _postgres_argv(site: Site) -> list[str]:
    return postgres.argv(_data(site), site.port, user=postgres.server_user(), durable=site.durable)


def _postgres_ready(site: Site) -> bool:
    return postgres.accepts_connections(site.port)


def _postgres_provision(site: Site) -> None:
    postgres_roles(site)
    migrate_orders(site)


def postgres_roles(site: Site) -> None:
    """PostgreSQL's two roles and the (empty, on first start) database owned by the owner."""
    env = site.environment
    postgres.provision(
        _data(site),
        site.port,
        env[postgres.PASSWORD_VARIABLE],
        env[postgres.OWNER_PASSWORD_VARIABLE],
        user=postgres.server_user(),
    )


def migrate_orders(site: Site) -> None:
    """The query side's migrations, a step of their own before orders starts (orders refuses a
    schema older than it needs): ``orders-migrate`` as the owner, granting the service's role.
    Only this step gets the owner's URL; orders never does."""
    with step("migrating the orders query side (orders-migrate)"):
        output = install.run_checked(
            Path(sys.executable).with_name("orders-migrate"),
            env={
                "ORDERHUB_ENV": site.environment.get("ORDERHUB_ENV", "development"),
                "ORDERS_POSTGRES_MIGRATION_URL": postgres.url(
                    postgres.OWNER, site.environment[postgres.OWNER_PASSWORD_VARIABLE], site.port
                ),
                "ORDERS_POSTGRES_SERVICE_ROLE": postgres.ROLE,
                "LOG_LEVEL": "WARNING",
            },
        )
        for line in output.splitlines():
            say(f"    {line}")


# Redis -----------------------------------------------------------------------------------------
def _redis_acl_file(site: Site) -> Path:
    return _data(site) / "users.acl"


def _redis_prepare(site: Site) -> None:
    install.redis_server()
    acl = _redis_acl_file(site)
    acl.touch(mode=0o600)
    acl.chmod(0o600)
    acl.write_text(credentials.redis_acl(site.environment))


def _redis_argv(site: Site) -> list[str]:
    return [
        shutil.which("redis-server") or "redis-server",
        "--port",
        str(site.port),
        "--bind",
        "127.0.0.1",
        "--dir",
        str(_data(site)),
        "--appendonly",
        "yes",
        "--save",
        "",
        "--protected-mode",
        "yes",
        # No default user: every connection signs in as the ACL file's user.
        "--aclfile",
        str(_redis_acl_file(site)),
    ]


# Services: console scripts of the workspace, ready when /readyz answers 200 ---------------------
def _script(name: str) -> Callable[[Site], list[str]]:
    def argv(site: Site) -> list[str]:
        return [str(Path(sys.executable).with_name(name))]

    return argv


def _readyz(site: Site) -> bool:
    return http_ok(f"http://127.0.0.1:{site.port}/readyz")


def _service(name: str, port_variable: str, default_port: int, script: str) -> Component:
    return Component(
        name=name,
        port_variable=port_variable,
        default_port=default_port,
        argv=_script(script),
        is_ready=_readyz,
        is_service=True,
        stop_wait_s=25,
        # Stopped before the infrastructure, the gateway (the public entry) first of all.
        priority=300 if name == "gateway" else 200,
        kafka_user=name if name in credentials.KAFKA_SERVICE_USERS else None,
    )


COMPONENTS: tuple[Component, ...] = (
    Component(
        name="kafka",
        port_variable="KAFKA_PORT",
        default_port=9092,
        argv=_kafka_argv,
        is_ready=_port_accepts,
        data_dir="kafka",
        prepare=_kafka_prepare,
        provision=_kafka_provision,
        extra_ports=(
            Port("kafka_controller", "KAFKA_CONTROLLER_PORT", 9093),
            # TLS listeners for clients of managed Kafka's kind (devstack.kafka_tls): SASL_SSL,
            # and SSL with a client certificate.
            Port("kafka_tls", "KAFKA_TLS_PORT", 9094),
            Port("kafka_mtls", "KAFKA_MTLS_PORT", 9095),
        ),
    ),
    Component(
        name="mongodb",
        port_variable="MONGODB_PORT",
        default_port=27017,
        argv=_mongodb_argv,
        is_ready=_port_accepts,
        data_dir="mongodb",
        prepare=_mongodb_prepare,
    ),
    Component(
        name="postgres",
        port_variable="POSTGRES_PORT",
        default_port=5432,
        argv=_postgres_argv,
        is_ready=_postgres_ready,
        data_dir="postgres",
        prepare=_postgres_prepare,
        provision=_postgres_provision,
        # TERM is a smart shutdown, which waits for every pooled connection to close; INT is the
        # fast shutdown, sent to the postmaster alone, which then stops its own children.
        stop_signal=signal.SIGINT,
        stop_wait_s=30,
        stop_process_group=False,
    ),
    Component(
        name="redis",
        port_variable="REDIS_PORT",
        default_port=6379,
        argv=_redis_argv,
        is_ready=_port_accepts,
        data_dir="redis",
        prepare=_redis_prepare,
    ),
    _service("auth", "AUTH_PORT", 8001, "auth"),
    _service("orders", "ORDERS_PORT", 8002, "orders"),
    _service("mock_channels", "MOCK_CHANNELS_PORT", 8004, "mock-channels"),
    _service("ingest", "INGEST_PORT", 8003, "ingest"),
    _service("gateway", "GATEWAY_PORT", 8080, "gateway"),
)


# Second replicas, run on demand (``ORDERHUB_REPLICAS``, see ``profiles``) ------------------------
def _second_replica(of: str, port_variable: str, default_port: int) -> Component:
    """The same service as ``of`` on its own port: its command line with the port variable set
    (``env`` execs the service, so the PID file still names the real process)."""
    first = BY_NAME[of]

    def argv(site: Site) -> list[str]:
        return ["env", f"{first.port_variable}={site.port}", *first.argv(site)]

    return Component(
        name=f"{of}_2",
        port_variable=port_variable,
        default_port=default_port,
        argv=argv,
        is_ready=_readyz,
        is_service=True,
        stop_wait_s=first.stop_wait_s,
        priority=first.priority,
        kafka_user=first.kafka_user,
    )


BY_NAME: Mapping[str, Component] = {component.name: component for component in COMPONENTS}
# Which services may run a second replica, and the replica's component. Their ports sit 10 above
# the first replica's (the contract's ports are the first replicas').
REPLICAS: Mapping[str, Component] = {
    "orders": _second_replica("orders", "ORDERS_2_PORT", 8012),
    "ingest": _second_replica("ingest", "INGEST_2_PORT", 8013),
}
BY_NAME = {**BY_NAME, **{replica.name: replica for replica in REPLICAS.values()}}
SERVICES: tuple[str, ...] = tuple(c.name for c in COMPONENTS if c.is_service)
PORTS: tuple[Port, ...] = tuple(
    port for component in (*COMPONENTS, *REPLICAS.values()) for port in component.ports
)


def component(name: str) -> Component:
    """The row named ``name``; a clear error for a name that is not a component."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown component {name!r}; one of {', '.join(BY_NAME)}") from None
