"""The credentials the stack's stores require: the MongoDB user (SCRAM), the Redis ACL user and
the Kafka SASL/PLAIN user, one ``orderhub`` user each; a Kafka user of each service that talks
to Kafka (named after it: ``KAFKA_<SERVICE>_PASSWORD``), held to its ACLs; and PostgreSQL's two
roles (the service's ``orderhub`` and the schema's owner ``orderhub_owner``, named in
``devstack.postgres``).

The local profile generates its passwords on first use into a secret file (0600, in the 0700
folder ``.data/secrets``) and reads them from there ever after; the test profile, wiped at every
start and reached by many processes, derives fixed test-only ones. Either way they land in the
profile's environment under the names docker compose reads too (``MONGODB_PASSWORD``,
``REDIS_PASSWORD``, ``KAFKA_SASL_PASSWORD`` and their ``*_USERNAME``, ``POSTGRES_PASSWORD`` and
``POSTGRES_OWNER_PASSWORD``), from which the addresses
(URLs with credentials, ``KAFKA_SASL_*``) and the stores' own configuration are written.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

USERNAME = "orderhub"
# The variables that name each store's user and password (the same as docker compose's).
USERNAMES = ("MONGODB_USERNAME", "REDIS_USERNAME", "KAFKA_SASL_USERNAME")
# The Kafka users of the services, as orderhub_common.kafka_access names them (a unit test keeps
# the two lists one). ``KAFKA_SASL_*`` is the broker's own user, its one super user.
KAFKA_SERVICE_USERS = ("auth", "orders", "ingest", "gateway")


def kafka_password_variable(user: str) -> str:
    return f"KAFKA_{user.upper()}_PASSWORD"


KAFKA_SERVICE_PASSWORDS = tuple(kafka_password_variable(user) for user in KAFKA_SERVICE_USERS)
PASSWORDS = (
    "MONGODB_PASSWORD",
    "REDIS_PASSWORD",
    "KAFKA_SASL_PASSWORD",
    "POSTGRES_PASSWORD",
    "POSTGRES_OWNER_PASSWORD",
    *KAFKA_SERVICE_PASSWORDS,
)
FILE_NAME = "store-credentials.env"

# Every command the services send Redis, and nothing else: the application user may not flush,
# replicate, reconfigure, inspect or stop it (issue 21, finding 13). Commands a Lua script calls
# are checked too, so the scripts' own are here: orderhub's (auth, ingest's lease, the gateway's
# cache) and those of the ``limits`` library's moving window (LINDEX, LPUSH, LTRIM, EXPIRE).
# SELECT: a REDIS_URL naming another database (the test suites' one per suite). A command a
# service starts to use goes here and into docker-compose.yml's redis-conf (a test compares).
REDIS_APP_COMMANDS = (
    # connection: redis-py's health checks and readiness
    "ping",
    "select",
    # redis-py pipelines with transaction=True
    "multi",
    "exec",
    # strings and keys
    "get",
    "set",
    "mget",
    "incr",  # the gateway cache's script
    "incrby",  # redis-py's incr()
    "del",
    "exists",
    "expire",
    "pexpire",
    "ttl",
    # hashes
    "hget",
    "hset",
    "hsetnx",
    "hmget",
    "hgetall",
    "hdel",
    "hincrby",
    # lists: the limits library's moving window
    "lindex",
    "lpush",
    "ltrim",
    # scripts, by body or by hash, loaded again into a Redis that lost them
    "eval",
    "evalsha",
    "script|load",
)
# A test-only user the test suites clean up with (FLUSHDB of a suite's own database, SCAN).
TEST_ADMIN_USERNAME = "orderhub-test-admin"


def generated(secrets_dir: Path) -> dict[str, str]:
    """The local stack's credentials: read from ``secrets_dir``, generated there on first use.

    A file others can read or write is refused rather than used: whoever reads it reaches the
    stores."""
    path = secrets_dir / FILE_NAME
    if not path.exists():
        secrets_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise SystemExit(f"{path} is readable by others (mode {mode:o}): chmod 600 it")
    values = _read(path)
    # A file written before a store (a role, a service's Kafka user) needed credentials gains
    # them; the others stay, as the stores already know them (the broker and PostgreSQL's roles
    # learn theirs at every start).
    added = {name: USERNAME for name in USERNAMES if not values.get(name)}
    added |= {name: secrets.token_urlsafe(24) for name in PASSWORDS if not values.get(name)}
    if added:
        with path.open("a") as file:
            file.write("".join(f"{key}={value}\n" for key, value in added.items()))
        values = _read(path)
    return values


def _read(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        key, _, value = line.partition("=")
        if key in USERNAMES or key in PASSWORDS:
            values[key] = value
    return values


EXPORT_LINK_VARIABLE = "ORDERS_EXPORT_LINK_SECRET"
EXPORT_LINK_FILE_NAME = "orders-export-link.env"


def generated_export_link_secret(secrets_dir: Path) -> dict[str, str]:
    """The key the local stack's orders signs export download links with: read from
    ``secrets_dir``, generated there (0600) on first use, so no link signed with the development
    default ``.env.example`` shows opens a file. A file others can read is refused."""
    path = secrets_dir / EXPORT_LINK_FILE_NAME
    if not path.exists():
        secrets_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(f"{EXPORT_LINK_VARIABLE}={secrets.token_urlsafe(32)}\n")
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise SystemExit(f"{path} is readable by others (mode {mode:o}): chmod 600 it")
    key, _, value = path.read_text().strip().partition("=")
    if key != EXPORT_LINK_VARIABLE or len(value) < 32:
        raise SystemExit(f"{path} holds no {EXPORT_LINK_VARIABLE}: remove it to generate a new one")
    return {EXPORT_LINK_VARIABLE: value}


def for_tests() -> dict[str, str]:
    """The test profile's credentials: fixed, test-only (its data is wiped at every start), and
    a Redis user for the suites' own clean-up, which the application user may not do."""
    return (
        {name: USERNAME for name in USERNAMES}
        | {name: f"test-only-{name.lower().replace('_', '-')}" for name in PASSWORDS}
        | {
            "REDIS_TEST_ADMIN_USERNAME": TEST_ADMIN_USERNAME,
            "REDIS_TEST_ADMIN_PASSWORD": "test-only-redis-test-admin-password",
        }
    )


def kafka_service_user(environment: Mapping[str, str], user: str) -> dict[str, str]:
    """The ``KAFKA_SASL_*`` variables a service signs in to Kafka with: its own user's."""
    return {
        "KAFKA_SASL_USERNAME": user,
        "KAFKA_SASL_PASSWORD": environment[kafka_password_variable(user)],
    }


def kafka_jaas(environment: Mapping[str, str]) -> str:
    """The broker's JAAS line for SASL/PLAIN on the clients' listener: its own login, and the
    users it knows (its own and each service's)."""
    user, password = environment["KAFKA_SASL_USERNAME"], environment["KAFKA_SASL_PASSWORD"]
    services = "".join(
        f' user_{name}="{environment[kafka_password_variable(name)]}"'
        for name in KAFKA_SERVICE_USERS
    )
    return (
        "org.apache.kafka.common.security.plain.PlainLoginModule required "
        f'username="{user}" password="{password}" user_{user}="{password}"{services};'
    )


def kafka_scram_arguments(environment: Mapping[str, str]) -> list[str]:
    """``kafka-storage format`` arguments giving the broker's user and each service's user a
    SCRAM-SHA-512 credential (their SASL/PLAIN passwords), for the SASL_SSL listener: KRaft keeps
    SCRAM credentials in its metadata, written here when the storage is formatted."""
    users = {environment["KAFKA_SASL_USERNAME"]: environment["KAFKA_SASL_PASSWORD"]} | {
        name: environment[kafka_password_variable(name)] for name in KAFKA_SERVICE_USERS
    }
    return [
        argument
        for name, password in users.items()
        for argument in ("--add-scram", f'SCRAM-SHA-512=[name={name},password="{password}"]')
    ]


def kafka_controller_jaas(environment: Mapping[str, str]) -> str:
    """The controller listener's JAAS line: the broker's own user alone signs in there."""
    user, password = environment["KAFKA_SASL_USERNAME"], environment["KAFKA_SASL_PASSWORD"]
    return (
        "org.apache.kafka.common.security.plain.PlainLoginModule required "
        f'username="{user}" password="{password}" user_{user}="{password}";'
    )


def redis_app_rules() -> str:
    """The application user's command rules: none but the services' own."""
    return " ".join(["-@all", *(f"+{command}" for command in REDIS_APP_COMMANDS)])


def redis_acl(environment: Mapping[str, str]) -> str:
    """Redis's ACL file: no default user; the one user runs the services' commands alone (any
    key, no channel: nothing publishes); the test profile adds its clean-up user."""
    user, password = environment["REDIS_USERNAME"], environment["REDIS_PASSWORD"]
    # The default user is off (nobody signs in as it) yet allowed everything: Redis 7.0 replays its
    # append-only file as that user, and without permissions it dropped every MULTI/EXEC and
    # every script that wrote more than once at the next start.
    lines = [
        "user default off resetpass ~* &* +@all",
        f"user {user} on >{password} ~* resetchannels {redis_app_rules()}",
    ]
    if "REDIS_TEST_ADMIN_PASSWORD" in environment:
        admin = environment["REDIS_TEST_ADMIN_USERNAME"]
        lines.append(f"user {admin} on >{environment['REDIS_TEST_ADMIN_PASSWORD']} ~* &* +@all")
    return "".join(f"{line}\n" for line in lines)
