"""The credentials the stack's stores require: the MongoDB user (SCRAM), the Redis ACL user and
the Kafka SASL/PLAIN user, one ``orderhub`` user each, and PostgreSQL's two roles (the service's
``orderhub`` and the schema's owner ``orderhub_owner``, named in ``devstack.postgres``).

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
PASSWORDS = (
    "MONGODB_PASSWORD",
    "REDIS_PASSWORD",
    "KAFKA_SASL_PASSWORD",
    "POSTGRES_PASSWORD",
    "POSTGRES_OWNER_PASSWORD",
)
FILE_NAME = "store-credentials.env"


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
    values = {}
    for line in path.read_text().splitlines():
        key, _, value = line.partition("=")
        if key in USERNAMES or key in PASSWORDS:
            values[key] = value
    # A file from before a store (or a role) needed credentials gains them; the others stay, as
    # the stores already know them.
    added = {name: USERNAME for name in USERNAMES if name not in values}
    # URL-safe: the passwords are written into the stores' URLs as they are.
    added |= {name: secrets.token_urlsafe(24) for name in PASSWORDS if name not in values}
    if added:
        with path.open("a") as file:
            file.write("".join(f"{key}={value}\n" for key, value in added.items()))
        values |= added
    missing = [name for name in (*USERNAMES, *PASSWORDS) if not values.get(name)]
    if missing:
        raise SystemExit(f"{path} lacks {', '.join(missing)}: remove it to generate a new one")
    return values


def for_tests() -> dict[str, str]:
    """The test profile's credentials: fixed, test-only (its data is wiped at every start)."""
    return {name: USERNAME for name in USERNAMES} | {
        name: f"test-only-{name.lower().replace('_', '-')}" for name in PASSWORDS
    }


def kafka_jaas(environment: Mapping[str, str]) -> str:
    """The broker's JAAS line for SASL/PLAIN: its own client login and the one user it knows."""
    user, password = environment["KAFKA_SASL_USERNAME"], environment["KAFKA_SASL_PASSWORD"]
    return (
        "org.apache.kafka.common.security.plain.PlainLoginModule required "
        f'username="{user}" password="{password}" user_{user}="{password}";'
    )


def redis_acl(environment: Mapping[str, str]) -> str:
    """Redis's ACL file: no default user; the one user may not wipe, reconfigure or stop it."""
    user, password = environment["REDIS_USERNAME"], environment["REDIS_PASSWORD"]
    return (
        "user default off\n"
        f"user {user} on >{password} ~* &* +@all -flushall -debug -shutdown -config -module -acl\n"
    )
