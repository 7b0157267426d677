"""The two ways to run the stack, and the ``.env`` file the local one is configured by.

``local`` has the contract's ports (each overridable by its variable in ``.env`` or the
environment), data in ``.data/`` and runtime files in ``.run/``; ``make up`` and ``make down``
drive it. ``test`` has ports 20000 above the defaults (``ORDERHUB_TEST_PORT_OFFSET`` moves them),
data in ``.data/test`` and runtime files in ``.run/test``, and is wiped at every start, so tests
never touch a running ``make up`` stack.

Either profile runs one replica of each service, or a second replica of ingest and of orders on
demand: ``ORDERHUB_REPLICAS=ingest,orders`` (``2`` is short for both; ``make up REPLICAS=2``).
The second replicas listen 10 above the first (``INGEST_2_PORT`` 8013, ``ORDERS_2_PORT`` 8012).
The stack refuses a second orders replica on FerretDB (see ``Stack``).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from devstack import credentials
from devstack.components import PORTS, REPLICAS
from devstack.install import REPO
from devstack.steps import say

# Test ports sit 20000 above the contract's, clear of a developer's `make up` stack. Two clones
# testing side by side on one machine give one of them another offset.
DEFAULT_TEST_PORT_OFFSET = 20000


# The mock channels' unauthenticated control API (``MockChannelsSettings.control_api``).
CONTROL_API_VARIABLE = "MOCK_CHANNELS_CONTROL_API"


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
    # The services that run a second replica (``ORDERHUB_REPLICAS``).
    replicas: tuple[str, ...] = ()

    def port(self, name: str) -> int:
        return self.ports[name]


def local_profile() -> Profile:
    # .env.example supplies the defaults a .env written before a variable existed lacks; the
    # process environment overrides both for the variables they name and for every port.
    env = read_env_file(REPO / ".env.example") | read_env_file(ensure_env_file())
    port_variables = {port.variable for port in PORTS}
    env.update(
        {
            k: v
            for k, v in os.environ.items()
            if k in env or k in port_variables or k == CONTROL_API_VARIABLE
        }
    )
    # A development stack: the mock channels' control API is on (``make demo-data``, the
    # browser tests) unless .env or the environment turns it off; never in production, which
    # refuses it.
    env.setdefault(
        CONTROL_API_VARIABLE, "false" if env.get("ORDERHUB_ENV") == "production" else "true"
    )
    ports = {port.name: int(env.get(port.variable, port.default)) for port in PORTS}
    # The stores' credentials are the stack's own, generated on first start (the *_PASSWORD
    # values in .env are docker compose's).
    env.update(credentials.generated(REPO / ".data" / "secrets"))
    # So is the key of orders' export links (the value in .env is docker compose's).
    env.update(credentials.generated_export_link_secret(REPO / ".data" / "secrets"))
    return Profile(
        "local",
        REPO / ".data",
        REPO / ".run",
        ports,
        env,
        external_mongodb_url=os.environ.get("MONGODB_URL"),
        replicas=parse_replicas(os.environ.get(REPLICAS_VARIABLE, env.get(REPLICAS_VARIABLE, ""))),
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
            # The suites create orders and inject faults through it.
            CONTROL_API_VARIABLE: "true",
            "LOG_LEVEL": "INFO",
        }
        | credentials.for_tests()
    )
    return Profile(
        "test",
        REPO / ".data" / "test",
        REPO / ".run" / "test",
        ports,
        env,
        fresh_data=True,
        replicas=parse_replicas(os.environ.get(REPLICAS_VARIABLE, "")),
    )


REPLICAS_VARIABLE = "ORDERHUB_REPLICAS"


def parse_replicas(text: str) -> tuple[str, ...]:
    """``ingest,orders`` (or ``2``: both; ``1`` or nothing: none) as the services to run twice;
    a clear error for any other name."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    if names == ["1"]:
        return ()
    if names == ["2"]:
        return tuple(REPLICAS)
    unknown = [name for name in names if name not in REPLICAS]
    if unknown:
        raise SystemExit(
            f"{REPLICAS_VARIABLE}={text!r}: {', '.join(unknown)} cannot run a second replica; "
            f"name some of {', '.join(REPLICAS)} (or 2 for all of them)"
        )
    return tuple(name for name in REPLICAS if name in names)


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
