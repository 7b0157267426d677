"""The two ways to run the stack, and the ``.env`` file the local one is configured by.

``local`` has the contract's ports (each overridable by its variable in ``.env`` or the
environment), data in ``.data/`` and runtime files in ``.run/``; ``make up`` and ``make down``
drive it. ``test`` has ports 20000 above the defaults (``ORDERHUB_TEST_PORT_OFFSET`` moves them),
data in ``.data/test`` and runtime files in ``.run/test``, and is wiped at every start, so tests
never touch a running ``make up`` stack.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from devstack import credentials
from devstack.components import PORTS
from devstack.install import REPO
from devstack.steps import say

# Test ports sit 20000 above the contract's, clear of a developer's `make up` stack. Two clones
# testing side by side on one machine give one of them another offset.
DEFAULT_TEST_PORT_OFFSET = 20000


def test_port_offset() -> int:
    return int(os.environ.get("ORDERHUB_TEST_PORT_OFFSET", DEFAULT_TEST_PORT_OFFSET))


@dataclass(frozen=True)
class Profile:
    name: str
    data_dir: Path
    run_dir: Path
    ports: dict[str, int]
    environment: dict[str, str] = field(default_factory=dict)
    # Wipe data and runtime files whenever this profile's supervisord starts.
    fresh_data: bool = False
    # A MongoDB given by MONGODB_URL (local profile only): the stack then runs no store itself.
    external_mongodb_url: str | None = None

    def port(self, name: str) -> int:
        return self.ports[name]


def local_profile() -> Profile:
    # .env.example supplies the defaults a .env written before a variable existed lacks; the
    # process environment overrides both for the variables they name and for every port.
    env = read_env_file(REPO / ".env.example") | read_env_file(ensure_env_file())
    port_variables = {port.variable for port in PORTS}
    env.update({k: v for k, v in os.environ.items() if k in env or k in port_variables})
    ports = {port.name: int(env.get(port.variable, port.default)) for port in PORTS}
    # The stores' credentials are the stack's own, generated on first start (the *_PASSWORD
    # values in .env are docker compose's).
    env.update(credentials.generated(REPO / ".data" / "secrets"))
    return Profile(
        "local",
        REPO / ".data",
        REPO / ".run",
        ports,
        env,
        external_mongodb_url=os.environ.get("MONGODB_URL"),
    )


def test_profile() -> Profile:
    ports = {port.name: port.default + test_port_offset() for port in PORTS}
    env = read_env_file(REPO / ".env.example")
    env.update(
        {
            "ORDERHUB_ENV": "test",
            "POLL_INTERVAL_S": "0.5",
            "MOCK_SEED_ORDERS": "0",
            # Tests act as many clients through a loopback proxy, each with its own limits.
            "GATEWAY_FORWARDED_ALLOW_IPS": "127.0.0.1",
            "RATE_LIMIT_PER_IP_PER_MIN": "2000",
            "RATE_LIMIT_PER_USER_PER_MIN": "2000",
            # The black-box suites call each service directly, from one address, many times.
            "AUTH_RATE_LIMIT_PER_IP_PER_MIN": "100000",
            "ORDERS_RATE_LIMIT_PER_IP_PER_MIN": "100000",
            "INGEST_RATE_LIMIT_PER_IP_PER_MIN": "100000",
            "MOCK_CHANNELS_RATE_LIMIT_PER_IP_PER_MIN": "100000",
            "LOG_LEVEL": "INFO",
        }
        | credentials.for_tests()
    )
    return Profile(
        "test", REPO / ".data" / "test", REPO / ".run" / "test", ports, env, fresh_data=True
    )


def ensure_env_file() -> Path:
    """``.env``, copied from ``.env.example`` (the development defaults) when missing."""
    env_file = REPO / ".env"
    if not env_file.exists():
        shutil.copyfile(REPO / ".env.example", env_file)
        say("created .env from .env.example (development defaults)")
    return env_file


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=value`` lines (``export`` and quotes allowed; blank lines and comments skipped)."""
    values: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip().removeprefix("export ").strip()] = value.strip().strip("'\"")
    return values
