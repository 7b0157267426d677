"""docker-compose.yml is a valid Compose file that runs the system as issue #16 asks.

Validated against the Compose Specification's JSON schema (``../shared/schemas/compose-spec.json``,
else the copy check-jsonschema vendors), so it runs where no Compose plugin does; ``docker
compose config`` is the reference where it runs (Debian's docker-compose 1.29 is too old).
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from importlib.resources import files
from ipaddress import ip_address, ip_network
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import jsonschema_rs
import pytest
import yaml

from auth.settings import AuthSettings
from devstack import credentials
from gateway.settings import GatewaySettings
from ingest.settings import IngestSettings
from mock_channels.settings import MockChannelsSettings
from orderhub_common.kafka import Topics
from orderhub_common.kafka_access import (
    ACCESS,
    CLUSTER,
    AclBinding,
    Operation,
    PatternType,
    ResourceType,
    bindings,
)
from orders.settings import OrdersSettings

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[1]
COMPOSE_FILE = REPO / "docker-compose.yml"
SCHEMA = REPO.parent / "shared" / "schemas" / "compose-spec.json"
VENDORED_SCHEMA = files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
DOCKERFILE = "services/Dockerfile"
STORES = {"kafka", "mongodb", "postgres", "redis"}
# Steps that run once and exit; what needs them starts once they succeeded.
ONE_SHOTS = {"kafka-init", "orders-migrate"}

# Compose service name -> (workspace package, its settings class).
SERVICES: dict[str, tuple[str, Any]] = {
    "auth": ("auth", AuthSettings),
    "orders": ("orders", OrdersSettings),
    "ingest": ("ingest", IngestSettings),
    "gateway": ("gateway", GatewaySettings),
    "mock-channels": ("mock-channels", MockChannelsSettings),
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return loaded


def test_the_compose_file_follows_the_compose_specification(compose: dict[str, Any]) -> None:
    schema = SCHEMA.read_text() if SCHEMA.exists() else VENDORED_SCHEMA.read_text()
    validator = jsonschema_rs.validator_for(json.loads(schema))

    errors = [
        f"{'/'.join(map(str, e.instance_path))}: {e.message}"
        for e in validator.iter_errors(compose)
    ]

    assert errors == []


@pytest.mark.parametrize("name", SERVICES)
def test_every_service_is_built_from_the_one_dockerfile_with_its_package_and_port(
    compose: dict[str, Any], name: str
) -> None:
    package, settings_class = SERVICES[name]
    build = compose["services"][name]["build"]

    assert (build["context"], build["dockerfile"]) == (".", DOCKERFILE)
    assert build["args"]["SERVICE"] == package
    assert int(build["args"]["PORT"]) == settings_class.model_fields["port"].default
    assert (build["args"].get("WITH_SPA") == "yes") == (name == "gateway"), "only the gateway"


def test_no_service_has_a_dockerfile_of_its_own() -> None:
    assert (REPO / DOCKERFILE).is_file()
    assert sorted(REPO.glob("services/*/Dockerfile")) == []


def test_orders_reaches_the_postgres_of_the_stack(compose: dict[str, Any]) -> None:
    postgres = compose["services"]["postgres"]
    orders = compose["services"]["orders"]

    assert postgres["image"].startswith("postgres:16")
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert orders["depends_on"]["postgres"] == {"condition": "service_healthy"}
    assert orders["environment"]["ORDERS_POSTGRES_URL"].endswith("@postgres:5432/orderhub_orders")


def test_compose_makes_postgres_two_roles_from_required_passwords(
    compose: dict[str, Any],
) -> None:
    # Orders works as a role that owns nothing; its migration step works as the owner; the
    # image's superuser only runs the init script (the roles of the local stack, from the same SQL).
    postgres = compose["services"]["postgres"]
    orders = compose["services"]["orders"]["environment"]
    migrate = compose["services"]["orders-migrate"]["environment"]
    configs = {c["target"]: compose["configs"][c["source"]] for c in postgres["configs"]}
    raw = (REPO / "docker-compose.yml").read_text()

    assert orders["ORDERS_POSTGRES_URL"].startswith("postgresql://orderhub:")
    assert migrate["ORDERS_POSTGRES_MIGRATION_URL"].startswith("postgresql://orderhub_owner:")
    assert postgres["environment"]["POSTGRES_USER"] == "postgres"
    assert configs["/etc/orderhub/roles.sql"]["file"] == "./infra/postgres/roles.sql"
    assert "roles.sql" in configs["/docker-entrypoint-initdb.d/orderhub-roles.sh"]["content"]
    for variable in ("POSTGRES_SUPERUSER_PASSWORD", "POSTGRES_OWNER_PASSWORD", "POSTGRES_PASSWORD"):
        assert f"${{{variable}:?" in raw, variable
    assert "dev-only-postgres-password" not in raw


def test_orders_starts_after_its_migration_step_and_never_holds_the_owners_password(
    compose: dict[str, Any],
) -> None:
    # Issue 25, item 6: migrating inside orders' start-up crash-looped on a long backfill, and
    # gave the orders process the schema owner's password.
    migrate = compose["services"]["orders-migrate"]
    orders = compose["services"]["orders"]

    assert migrate["build"] == orders["build"], "the orders image"
    assert migrate["command"] == ["orders-migrate"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert set(migrate["environment"]) == {
        "ORDERS_POSTGRES_MIGRATION_URL",
        "ORDERS_POSTGRES_SERVICE_ROLE",
    }
    role = migrate["environment"]["ORDERS_POSTGRES_SERVICE_ROLE"]
    assert orders["environment"]["ORDERS_POSTGRES_URL"].startswith(f"postgresql://{role}:")
    assert orders["depends_on"]["orders-migrate"] == {"condition": "service_completed_successfully"}
    assert not any(
        "orderhub_owner" in str(value) or "OWNER" in str(value)
        for value in orders["environment"].values()
    )


def test_the_channel_urls_of_orders_and_ingest_reach_the_mock_channels_service(
    compose: dict[str, Any],
) -> None:
    # ingest reads the feeds there, orders sends its status write-backs there: a wrong or
    # missing URL would fall back to the local stack's 127.0.0.1 and fail inside a container.
    port = compose["services"]["mock-channels"]["build"]["args"]["PORT"]
    for name in ("orders", "ingest"):
        url = urlsplit(compose["services"][name]["environment"]["MOCK_CHANNELS_URL"])
        assert (url.hostname, str(url.port)) == ("mock-channels", port), name


def test_the_mock_channels_keep_their_orders_on_a_named_volume(compose: dict[str, Any]) -> None:
    service = compose["services"]["mock-channels"]
    database = PurePosixPath(service["environment"]["MOCK_CHANNELS_DATABASE"])
    mounts = dict(volume.split(":", 1) for volume in service["volumes"])

    assert str(database.parent) in mounts.values()
    assert {v for v, target in mounts.items() if target == str(database.parent)} <= set(
        compose["volumes"]
    )


def test_docker_compose_config_accepts_the_file_with_the_example_environment(
    tmp_path: Path,
) -> None:
    docker = shutil.which("docker")
    if (
        docker is None
        or subprocess.run(
            [docker, "compose", "version"], capture_output=True, check=False
        ).returncode
    ):
        pytest.skip("no docker compose plugin here; the schema test above stands in")
    (tmp_path / ".env").write_text((REPO / ".env.example").read_text())
    result = subprocess.run(
        [
            docker,
            "compose",
            "-f",
            str(COMPOSE_FILE),
            "--env-file",
            str(tmp_path / ".env"),
            "--profile",
            "demo",
            "config",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr


def test_nothing_but_the_gateway_is_published_outside_the_demo_profile(
    compose: dict[str, Any],
) -> None:
    published = {
        name
        for name, service in compose["services"].items()
        if service.get("ports") and "demo" not in service.get("profiles", [])
    }
    control = compose["services"]["mock-channels-control"]

    assert published == {"gateway"}
    assert control["profiles"] == ["demo"]
    assert control["ports"] == ["127.0.0.1:8004:8004"], "the demo API on loopback only"
    nginx = compose["configs"]["mock-channels-control"]["content"]
    assert "location /_control/" in nginx
    assert "return 404" in nginx, "the feeds stay inside"


def test_the_mock_channels_control_api_is_off_unless_the_demo_turns_it_on(
    compose: dict[str, Any],
) -> None:
    # Unauthenticated order creation and fault injection: off in compose (its settings'
    # default) unless MOCK_CHANNELS_CONTROL_API=true is given with the demo profile.
    env = compose["services"]["mock-channels"]["environment"]
    example = (REPO / ".env.example").read_text()

    assert env["MOCK_CHANNELS_CONTROL_API"] == "${MOCK_CHANNELS_CONTROL_API:-false}"
    assert not re.search(r"^\s*MOCK_CHANNELS_CONTROL_API\s*=", example, flags=re.MULTILINE)
    assert MockChannelsSettings().control_api is False
    assert "MOCK_CHANNELS_CONTROL_API=true docker compose --profile demo up" in (
        COMPOSE_FILE.read_text()
    )


def test_every_service_is_healthchecked_and_started_after_what_it_needs(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    for name, service in services.items():
        # The service images carry their HEALTHCHECK (services/Dockerfile); the rest say theirs.
        assert "healthcheck" in service or "build" in service or name == "kafka-init", name
        for needed, condition in service.get("depends_on", {}).items():
            expected = (
                "service_completed_successfully" if needed in ONE_SHOTS else "service_healthy"
            )
            assert condition == {"condition": expected}, f"{name} -> {needed}"
    for name in ("orders", "ingest", "gateway"):
        assert "kafka-init" in services[name]["depends_on"], f"{name} starts after the topics"


def test_every_container_has_resource_limits(compose: dict[str, Any]) -> None:
    unlimited = [
        name
        for name, service in compose["services"].items()
        if not {"cpus", "memory"}
        <= set(service.get("deploy", {}).get("resources", {}).get("limits", {}))
    ]

    assert unlimited == []


def test_ingest_and_orders_run_two_replicas(compose: dict[str, Any]) -> None:
    replicas = {
        name: service.get("deploy", {}).get("replicas", 1)
        for name, service in compose["services"].items()
    }

    assert {name for name, n in replicas.items() if n == 2} == {"ingest", "orders"}
    assert replicas["mock-channels"] == 1, "its store is in memory"


def test_the_init_step_creates_every_topic_as_the_services_would(compose: dict[str, Any]) -> None:
    script = "\n".join(compose["services"]["kafka-init"]["command"])
    created = {
        name: (int(partitions), retention)
        for name, partitions, retention in re.findall(
            r"--topic (\S+) --partitions (\d+) --config retention.ms=(\S+)", script
        )
    }
    kafka = compose["services"]["kafka"]["environment"]
    specs = Topics().specs(
        partitions=int(kafka["KAFKA_NUM_PARTITIONS"]), replication_factor=1, min_insync_replicas=1
    )

    assert created == {
        spec.name: (spec.num_partitions, spec.topic_configs["retention.ms"]) for spec in specs
    }
    assert kafka["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"


def test_the_stores_require_credentials_and_take_them_from_the_environment(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    env = services["orders"]["environment"]

    assert services["mongodb"]["environment"]["MONGO_INITDB_ROOT_PASSWORD"].startswith(
        "${MONGODB_ROOT_PASSWORD:?"
    )
    assert re.fullmatch(
        r"mongodb://\$\{MONGODB_USERNAME:-orderhub\}:\$\{MONGODB_PASSWORD:\?[^}]*\}@mongodb:27017/"
        r"\?authSource=admin",
        env["MONGODB_URL"],
    )
    assert re.fullmatch(
        r"redis://\$\{REDIS_USERNAME:-orderhub\}:\$\{REDIS_PASSWORD:\?[^}]*\}@redis:6379/0",
        env["REDIS_URL"],
    )
    redis_conf = compose["configs"]["redis-conf"]["content"]
    assert "user default off" in redis_conf
    assert (
        f"user ${{REDIS_USERNAME:-orderhub}} on >${{REDIS_PASSWORD:?set it in .env}} ~* "
        f"resetchannels {credentials.redis_app_rules()}\n"
    ) in redis_conf, "the services' commands alone, as on the local stack"
    assert env["KAFKA_SASL_MECHANISM"] in {"PLAIN", "SCRAM-SHA-512"}
    assert env["KAFKA_SASL_PASSWORD"].startswith("${KAFKA_ORDERS_PASSWORD:?")
    assert "SASL_PLAINTEXT://:9092" in services["kafka"]["environment"]["KAFKA_LISTENERS"]


def test_no_secret_is_written_in_the_compose_file() -> None:
    text = COMPOSE_FILE.read_text()
    secrets = set(re.findall(r"dev-only-[a-z-]+", (REPO / ".env.example").read_text()))

    assert secrets, "the example environment has development secrets"
    assert [s for s in secrets if s in text] == []
    example = (REPO / ".env.example").read_text()
    for variable in sorted(set(re.findall(r"\$\{([A-Z_]+):\?", text))):
        assert re.search(rf"^{variable}=", example, flags=re.MULTILINE), (
            f"{variable} in .env.example"
        )


def test_the_dockerfile_pins_its_bases_runs_as_a_user_and_checks_its_health() -> None:
    dockerfile = (REPO / DOCKERFILE).read_text()
    bases = dict(re.findall(r"^ARG (\w+_IMAGE)=(\S+)$", dockerfile, flags=re.MULTILINE))
    instructions = re.findall(r"^([A-Z]+) ", dockerfile, flags=re.MULTILINE)

    assert set(bases) == {"PYTHON_IMAGE", "NODE_IMAGE", "UV_IMAGE"}
    assert all(re.search(r":\d+\.\d+\.\d+", image) for image in bases.values()), bases
    assert instructions.count("FROM") >= 3, "multi-stage"
    assert re.findall(r"^USER (\S+)$", dockerfile, flags=re.MULTILINE) == ["10001:10001"]
    assert "HEALTHCHECK" in instructions
    assert not re.search(r"^(ENV|ARG) .*(PASSWORD|SECRET|TOKEN|KEY)", dockerfile, re.MULTILINE)
    assert ".env" in (REPO / ".dockerignore").read_text().split()


def test_every_kafka_listener_signs_clients_in_and_an_authorizer_refuses_what_no_acl_allows(
    compose: dict[str, Any],
) -> None:
    kafka = compose["services"]["kafka"]["environment"]
    protocols = dict(
        pair.split(":") for pair in kafka["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")
    )

    assert {
        name
        for name, _ in (listener.split("://") for listener in kafka["KAFKA_LISTENERS"].split(","))
    } <= set(protocols)
    assert set(protocols.values()) == {"SASL_PLAINTEXT"}, "the controller's listener too"
    assert kafka["KAFKA_SASL_MECHANISM_CONTROLLER_PROTOCOL"] == "PLAIN"
    controller_users = re.findall(
        r"user_(\S+?)=", kafka["KAFKA_LISTENER_NAME_CONTROLLER_PLAIN_SASL_JAAS_CONFIG"]
    )
    assert controller_users == ["${KAFKA_SASL_USERNAME:-orderhub}"], "the broker's user alone"
    assert kafka["KAFKA_AUTHORIZER_CLASS_NAME"] == (
        "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    )
    assert kafka["KAFKA_SUPER_USERS"] == "User:${KAFKA_SASL_USERNAME:-orderhub}"
    assert kafka["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"


def test_each_service_signs_in_to_kafka_as_its_own_user(compose: dict[str, Any]) -> None:
    services = compose["services"]
    jaas = services["kafka"]["environment"][
        "KAFKA_LISTENER_NAME_SASL__PLAINTEXT_PLAIN_SASL_JAAS_CONFIG"
    ]
    signs_in = {
        name: (
            services[name]["environment"].get("KAFKA_SASL_USERNAME"),
            services[name]["environment"].get("KAFKA_SASL_PASSWORD"),
        )
        for name in SERVICES
    }

    assert signs_in == {
        **{
            access.user: (
                access.user,
                f"${{KAFKA_{access.user.upper()}_PASSWORD:?set KAFKA_{access.user.upper()}_PASSWORD"
                " in .env}",
            )
            for access in ACCESS
        },
        "mock-channels": (None, None),
    }
    for access in ACCESS:
        assert f'user_{access.user}="${{KAFKA_{access.user.upper()}_PASSWORD:?' in jaas


def test_the_init_step_grants_each_service_user_exactly_its_declared_acls(
    compose: dict[str, Any],
) -> None:
    script = compose["services"]["kafka-init"]["command"][0]
    operations = {
        "Read": Operation.READ,
        "Write": Operation.WRITE,
        "IdempotentWrite": Operation.IDEMPOTENT_WRITE,
    }
    granted: set[AclBinding] = set()
    for line in script.splitlines():
        if not line.startswith("allow --"):
            continue
        words = iter(shlex.split(line)[1:])
        options: dict[str, list[str]] = {}
        for option in words:
            # --cluster alone takes no value.
            options.setdefault(option, []).append("" if option == "--cluster" else next(words))
        pattern = options.get("--resource-pattern-type", ["literal"])
        resources = [
            *((ResourceType.TOPIC, name) for name in options.get("--topic", [])),
            *((ResourceType.GROUP, name) for name in options.get("--group", [])),
            *((ResourceType.CLUSTER, CLUSTER) for _ in options.get("--cluster", [])),
        ]
        for principal in options["--allow-principal"]:
            for operation in options["--operation"]:
                for kind, name in resources:
                    granted.add(
                        AclBinding(
                            principal,
                            kind,
                            name,
                            PatternType[pattern[0].upper()],
                            operations[operation],
                        )
                    )

    assert granted == set(bindings(Topics()))


def _default(value: str) -> str:
    """``${VARIABLE:-default}`` as compose reads it without the variable set."""
    match = re.fullmatch(r"\$\{[A-Z_]+:-([^}]*)\}", value)
    return match.group(1) if match else value


def test_the_services_believe_x_forwarded_for_from_the_gateway_alone(
    compose: dict[str, Any],
) -> None:
    # Issue 21, finding 2: every private range was trusted, and the gateway read the same list.
    gateway = compose["services"]["gateway"]
    gateway_address = ip_address(_default(gateway["networks"]["default"]["ipv4_address"]))
    subnet = ip_network(_default(compose["networks"]["default"]["ipam"]["config"][0]["subnet"]))

    assert gateway_address in subnet
    for name in SERVICES:
        environment = compose["services"][name]["environment"]
        assert ip_address(_default(environment["FORWARDED_ALLOW_IPS"])) == gateway_address, name
        assert "GATEWAY_FORWARDED_ALLOW_IPS" not in environment, name
