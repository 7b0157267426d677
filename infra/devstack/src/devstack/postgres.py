"""Debian's PostgreSQL 15 as a stack component: the cluster, the user it runs as, its roles.

PostgreSQL refuses to run as root, so when we are root (here and in CI) every server-side program
(initdb, postgres, the provisioning psql) runs as the unprivileged system user ``postgres``
through ``setpriv``, which execs in place: the PID written by the stack's wrapper is still the
postmaster's. Otherwise they run as the current user. The cluster is initialized on first start
only; two roles and the database ``orderhub_orders`` are ensured on every start
(``infra/postgres/roles.sql``), so a changed password takes effect: ``orderhub_owner`` (LOGIN
CREATEDB) owns the database, its schema and tables and runs the migrations; ``orderhub``, the
role the orders service works as, owns nothing and may create nothing. TCP
listens on 127.0.0.1 only with scram-sha-256; the unix socket lives in the data directory (mode
0700), where only the server's user (and root) can reach it, which is why local socket
connections are trusted.
"""

from __future__ import annotations

import os
import pwd
import subprocess
from pathlib import Path
from urllib.parse import quote

from devstack import install
from devstack.steps import step

SUPERUSER = "postgres"
# The role the orders service works as, and the role that owns its schema and migrates it.
ROLE = "orderhub"
OWNER = "orderhub_owner"
DATABASE = "orderhub_orders"
# The names of the environment variables that hold their passwords (``devstack.credentials``).
PASSWORD_VARIABLE = "POSTGRES_PASSWORD"  # noqa: S105
OWNER_PASSWORD_VARIABLE = "POSTGRES_OWNER_PASSWORD"  # noqa: S105
SERVER_USER_WHEN_ROOT = "postgres"
# A unix socket path must fit in sockaddr_un (108 bytes with the terminating NUL).
MAX_SOCKET_PATH = 107


def url(role: str, password: str, port: int) -> str:
    """``role``'s URL on the database (plain ``postgresql://``)."""
    return f"postgresql://{role}:{quote(password, safe='')}@127.0.0.1:{port}/{DATABASE}"


def server_user() -> str | None:
    """The OS user the server runs as: ``postgres`` when we are root, else None (ourselves)."""
    return SERVER_USER_WHEN_ROOT if os.geteuid() == 0 else None


def _ensure_server_user(user: str) -> None:
    try:
        pwd.getpwnam(user)
    except KeyError:
        with step(f"creating the system user {user} (PostgreSQL refuses to run as root)"):
            install.run_checked(
                "useradd",
                "--system",
                "--user-group",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                user,
            )


def as_server_user(user: str | None) -> list[str]:
    """The prefix that runs a program as ``user`` in the same process (exec, no fork)."""
    if user is None:
        return []
    return ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups"]


def prepare(data_dir: Path, *, user: str | None, durable: bool) -> None:
    """Makes ``data_dir`` a cluster owned by ``user`` (mode 0700); initdb on first start only.

    Installs PostgreSQL and creates ``user`` when missing. Fails with a clear message if ``user``
    cannot reach the directory (a parent without search permission).
    """
    bin_dir = install.postgres_bin_dir()
    data_dir.mkdir(parents=True, exist_ok=True)
    if user is not None:
        _ensure_server_user(user)
        entry = pwd.getpwnam(user)
        os.chown(data_dir, entry.pw_uid, entry.pw_gid)
    data_dir.chmod(0o700)
    _check_reachable(data_dir, user)
    socket_path = data_dir / ".s.PGSQL.00000"
    if len(str(socket_path)) > MAX_SOCKET_PATH:
        raise SystemExit(
            f"PostgreSQL's unix socket path would be too long ({len(str(socket_path))} > "
            f"{MAX_SOCKET_PATH} bytes) under {data_dir}; move the repository to a shorter path"
        )
    if (data_dir / "PG_VERSION").exists():
        return
    with step("initializing the PostgreSQL cluster (first start only)"):
        install.run_checked(
            *as_server_user(user),
            bin_dir / "initdb",
            "--pgdata",
            data_dir,
            f"--username={SUPERUSER}",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            # Data that is wiped at every start gains nothing from being flushed to disk.
            *([] if durable else ["--no-sync"]),
            cwd=data_dir,
        )


def _check_reachable(data_dir: Path, user: str | None) -> None:
    if user is None:
        return
    probe = subprocess.run(
        [*as_server_user(user), "test", "-w", str(data_dir), "-a", "-x", str(data_dir)],
        capture_output=True,
        check=False,
    )
    if probe.returncode != 0:
        blocked = [
            str(parent)
            for parent in reversed(data_dir.parents)
            if parent.stat().st_mode & 0o001 == 0
        ]
        raise SystemExit(
            f"PostgreSQL runs as the user {user}, which cannot reach {data_dir}: every parent "
            f"directory needs search permission for others (chmod o+x "
            f"{' '.join(blocked) or '<the blocking parent>'})"
        )


def argv(data_dir: Path, port: int, *, user: str | None, durable: bool) -> list[str]:
    """The server's command line; every setting is here, so changing one needs no re-init."""
    settings = {
        "listen_addresses": "127.0.0.1",
        "port": str(port),
        "unix_socket_directories": str(data_dir),
        "max_connections": "100",
        # Sized for a developer machine that also runs Kafka, the store and five services.
        "shared_buffers": "256MB" if durable else "128MB",
        "effective_cache_size": "1GB",
        "maintenance_work_mem": "64MB",
        "work_mem": "8MB",
        "log_min_messages": "warning",
        "log_line_prefix": "%m [%p] %q%u@%d ",
    }
    if not durable:
        # The test profile's cluster is thrown away at every start: trade crash safety for speed.
        settings.update({"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"})
    options = [part for name, value in settings.items() for part in ("-c", f"{name}={value}")]
    return [
        *as_server_user(user),
        str(install.POSTGRES_BIN / "postgres"),
        "-D",
        str(data_dir),
        *options,
    ]


def accepts_connections(port: int) -> bool:
    """True once the server accepts connections on 127.0.0.1 (``pg_isready``, not a port probe)."""
    pg_isready = install.POSTGRES_BIN / "pg_isready"
    result = subprocess.run(
        [str(pg_isready), "-q", "-h", "127.0.0.1", "-p", str(port), "-t", "2"],
        capture_output=True,
        check=False,
    )
    return result.returncode == 0


# The roles and the database, shared with docker compose's postgres image.
ROLES_SQL = install.REPO / "infra" / "postgres" / "roles.sql"


def provision(
    data_dir: Path, port: int, password: str, owner_password: str, *, user: str | None
) -> None:
    """Ensures the roles ``orderhub`` (``password``) and ``orderhub_owner`` (``owner_password``)
    and the owner's database; idempotent.

    The passwords travel in the environment, never on a command line others can read in ``ps``.
    """
    psql = install.POSTGRES_BIN / "psql"
    result = subprocess.run(
        [
            *as_server_user(user),
            str(psql),
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-v",
            f"role={ROLE}",
            "-v",
            f"owner={OWNER}",
            "-v",
            f"database={DATABASE}",
            "-h",
            str(data_dir),
            "-p",
            str(port),
            "-U",
            SUPERUSER,
            "-d",
            "postgres",
        ],
        input=ROLES_SQL.read_text(),
        env={
            **os.environ,
            "PGPROVISION_PASSWORD": password,
            "PGPROVISION_OWNER_PASSWORD": owner_password,
        },
        capture_output=True,
        text=True,
        check=False,
        cwd="/",
    )
    if result.returncode != 0:
        raise RuntimeError(f"creating the PostgreSQL roles and database failed:\n{result.stderr}")
