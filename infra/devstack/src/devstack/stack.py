"""The Order Hub stack on one machine without Docker, run under supervisord.

supervisord (a mature process supervisor) starts every component, restarts any that dies, and
stops them gracefully (SIGTERM, then a drain period) in reverse order. Each component writes its
own PID file through a tiny ``sh -c 'echo $$ > pidfile; exec ...'`` wrapper, so ``.run/<name>.pid``
always names the real process, and its output goes to ``.run/logs/<name>.log``.

Two profiles: ``local`` (the contract's ports, ``.data/`` and ``.run/``, driven by ``make up`` and
``make down``) and ``test`` (ports of its own, ``.data/test`` and ``.run/test``, wiped at start),
so tests never touch a running ``make up`` stack.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from devstack import install, postgres
from devstack.steps import say, step

REPO = install.REPO
INFRA = ("kafka", "mongodb", "postgres", "redis")
SERVICES = ("auth", "orders", "mock_channels", "ingest", "gateway")
SERVICE_SCRIPTS = {
    "auth": "auth",
    "orders": "orders",
    "ingest": "ingest",
    "gateway": "gateway",
    "mock_channels": "mock-channels",
}
DEFAULT_PORTS = {
    "gateway": 8080,
    "auth": 8001,
    "orders": 8002,
    "ingest": 8003,
    "mock_channels": 8004,
    "kafka": 9092,
    "kafka_controller": 9093,
    "mongodb": 27017,
    "postgres": 5432,
    "redis": 6379,
}
PORT_VARIABLES = {
    "gateway": "GATEWAY_PORT",
    "auth": "AUTH_PORT",
    "orders": "ORDERS_PORT",
    "ingest": "INGEST_PORT",
    "mock_channels": "MOCK_CHANNELS_PORT",
    "kafka": "KAFKA_PORT",
    "kafka_controller": "KAFKA_CONTROLLER_PORT",
    "mongodb": "MONGODB_PORT",
    "postgres": "POSTGRES_PORT",
    "redis": "REDIS_PORT",
}
# Test ports sit 20000 above the contract's, clear of a developer's `make up` stack.
TEST_PORT_OFFSET = 20000


@dataclass(frozen=True)
class Profile:
    name: str
    data_dir: Path
    run_dir: Path
    ports: dict[str, int]
    environment: dict[str, str] = field(default_factory=dict)
    fresh_data: bool = False


def local_profile() -> Profile:
    # .env.example supplies the defaults a .env written before a variable existed lacks.
    env = read_env_file(REPO / ".env.example") | read_env_file(ensure_env_file())
    env.update({k: v for k, v in os.environ.items() if k in env or k in PORT_VARIABLES.values()})
    ports = {
        name: int(env.get(variable, DEFAULT_PORTS[name]))
        for name, variable in PORT_VARIABLES.items()
    }
    return Profile("local", REPO / ".data", REPO / ".run", ports, env)


def test_profile() -> Profile:
    ports = {name: port + TEST_PORT_OFFSET for name, port in DEFAULT_PORTS.items()}
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
            "LOG_LEVEL": "INFO",
        }
    )
    return Profile(
        "test", REPO / ".data" / "test", REPO / ".run" / "test", ports, env, fresh_data=True
    )


def ensure_env_file() -> Path:
    env_file = REPO / ".env"
    if not env_file.exists():
        shutil.copyfile(REPO / ".env.example", env_file)
        say("created .env from .env.example (development defaults)")
    return env_file


def read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip().removeprefix("export ").strip()] = value.strip().strip("'\"")
    return values


class Stack:
    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.run_dir = profile.run_dir
        self.logs_dir = profile.run_dir / "logs"
        self.config_path = profile.run_dir / "supervisord.conf"
        self.supervisord_pidfile = profile.run_dir / "supervisord.pid"
        self.external_mongodb = os.environ.get("MONGODB_URL") if profile.name == "local" else None

    # Addresses -------------------------------------------------------------------------------
    def port(self, component: str) -> int:
        return self.profile.ports[component]

    @property
    def kafka_bootstrap(self) -> str:
        return f"127.0.0.1:{self.port('kafka')}"

    @property
    def mongodb_url(self) -> str:
        return self.external_mongodb or f"mongodb://127.0.0.1:{self.port('mongodb')}"

    @property
    def postgres_url(self) -> str:
        """The ``orderhub`` role (LOGIN CREATEDB) on its database ``orderhub_orders``."""
        return postgres.url(self._postgres_password(), self.port("postgres"))

    def _postgres_password(self) -> str:
        return self.profile.environment[postgres.PASSWORD_VARIABLE]

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.port('redis')}/0"

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.port(service)}"

    def service_environment(self) -> dict[str, str]:
        env = dict(self.profile.environment)
        env.update(
            {
                "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap,
                "MONGODB_URL": self.mongodb_url,
                "REDIS_URL": self.redis_url,
                "ORDERS_POSTGRES_URL": self.postgres_url,
                "AUTH_URL": self.url("auth"),
                "ORDERS_URL": self.url("orders"),
                "INGEST_URL": self.url("ingest"),
                "MOCK_CHANNELS_URL": self.url("mock_channels"),
                "JWKS_URL": f"{self.url('auth')}/.well-known/jwks.json",
                "FRONTEND_DIST": str(REPO / "frontend" / "dist"),
            }
        )
        for name in SERVICES:
            env[PORT_VARIABLES[name]] = str(self.port(name))
        return env

    # Lifecycle -------------------------------------------------------------------------------
    def is_running(self) -> bool:
        return _pid_alive(_read_pid(self.supervisord_pidfile))

    def ensure_infra_running(self) -> bool:
        """Starts Kafka, the store and Redis if they are not up. True if this call started them."""
        started = self._ensure_supervisord()
        self._start(self._infra_components())
        return started

    def up(self) -> bool:
        started = self._ensure_supervisord()
        self._start(self._infra_components())
        self._start(list(SERVICES))
        return started

    def _infra_components(self) -> list[str]:
        return [c for c in INFRA if not (c == "mongodb" and self.external_mongodb)]

    def _ensure_supervisord(self) -> bool:
        if self.is_running():
            return False
        if self.profile.fresh_data:
            shutil.rmtree(self.profile.data_dir, ignore_errors=True)
            shutil.rmtree(self.run_dir, ignore_errors=True)
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        self.profile.data_dir.mkdir(parents=True, exist_ok=True)
        self._check_ports_free()
        self._write_config()
        with step(f"starting supervisord ({self.profile.name} profile)"):
            subprocess.run(
                [str(Path(sys.executable).with_name("supervisord")), "-c", str(self.config_path)],
                env={**os.environ, **self.service_environment()},
                check=True,
                cwd=REPO,
            )
            _wait_until(lambda: (self.run_dir / "supervisor.sock").exists(), 15, "supervisord")
        return True

    def _check_ports_free(self) -> None:
        components = [*self._infra_components(), "kafka_controller", *SERVICES]
        busy = [f"{c}:{self.port(c)}" for c in components if _port_open(self.port(c))]
        if busy:
            raise SystemExit(
                f"ports already in use: {', '.join(busy)}; stop whatever holds them "
                "or set the *_PORT variables"
            )

    def _start(self, components: list[str]) -> None:
        for component in components:
            with step(f"starting {component}"):
                self._ctl("start", component, check=False)
                self.wait_ready(component)
                if component == "postgres":
                    postgres.provision(
                        self.profile.data_dir / "postgres",
                        self.port("postgres"),
                        self._postgres_password(),
                        user=postgres.server_user(),
                    )

    def wait_ready(self, component: str, timeout_s: float = 120) -> None:
        if component in SERVICES:
            url = f"{self.url(component)}/readyz"
            _wait_until(
                lambda: _http_ok(url), timeout_s, f"{component} /readyz", self._log(component)
            )
        elif component == "postgres":
            port = self.port(component)
            _wait_until(
                lambda: postgres.accepts_connections(port),
                timeout_s,
                f"postgres accepting connections on {port}",
                self._log(component),
            )
        else:
            port = self.port(component)
            _wait_until(
                lambda: _port_open(port),
                timeout_s,
                f"{component} port {port}",
                self._log(component),
            )

    def _log(self, component: str) -> Path:
        return self.logs_dir / f"{component}.log"

    def pid(self, component: str) -> int | None:
        return _read_pid(self.run_dir / f"{component}.pid")

    def kill(self, component: str, sig: signal.Signals = signal.SIGKILL) -> None:
        """Signals one component by its PID file; supervisord restarts it if it dies."""
        pid = self.pid(component)
        if pid and _pid_alive(pid):
            os.kill(pid, sig)

    def stop(self, component: str) -> None:
        self._ctl("stop", component)

    def start(self, component: str) -> None:
        self._start([component])

    def down(self, timeout_s: float = 90) -> None:
        if not self.is_running():
            say("nothing to stop: the stack is not running")
            self._reap_leftovers()
            return
        supervisord_pid = _read_pid(self.supervisord_pidfile)
        with step(f"stopping the {self.profile.name} stack (SIGTERM, drain)"):
            self._ctl("shutdown", check=False)
            _wait_until(lambda: not _pid_alive(supervisord_pid), timeout_s, "supervisord to exit")
            self._reap_leftovers()

    def status(self) -> str:
        if not self.is_running():
            return "not running"
        return self._ctl("status", check=False)

    def _reap_leftovers(self) -> None:
        for pidfile in self.run_dir.glob("*.pid"):
            pid = _read_pid(pidfile)
            if pid and _pid_alive(pid):
                sig = signal.SIGINT if pidfile.stem == "postgres" else signal.SIGTERM
                say(f"{pidfile.stem} (pid {pid}) still running; sending {sig.name}")
                os.kill(pid, sig)
                try:
                    _wait_until(lambda p=pid: not _pid_alive(p), 20, pidfile.stem)
                except TimeoutError:
                    os.kill(pid, signal.SIGKILL)
            pidfile.unlink(missing_ok=True)

    def _ctl(self, *args: str, check: bool = True) -> str:
        result = subprocess.run(
            [
                str(Path(sys.executable).with_name("supervisorctl")),
                "-c",
                str(self.config_path),
                *args,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"supervisorctl {' '.join(args)}: {result.stdout}{result.stderr}")
        return result.stdout

    # Configuration ---------------------------------------------------------------------------
    def _write_config(self) -> None:
        programs = {name: self._command(name) for name in [*self._infra_components(), *SERVICES]}
        sections = [
            "[supervisord]",
            f"logfile={self.logs_dir / 'supervisord.log'}",
            f"pidfile={self.supervisord_pidfile}",
            "loglevel=info",
            "nodaemon=false",
            f"directory={REPO}",
            "",
            "[unix_http_server]",
            f"file={self.run_dir / 'supervisor.sock'}",
            "chmod=0700",
            "",
            "[supervisorctl]",
            f"serverurl=unix://{self.run_dir / 'supervisor.sock'}",
            "",
            "[rpcinterface:supervisor]",
            "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
            "",
        ]
        for name, command in programs.items():
            is_service = name in SERVICES
            # PostgreSQL's smart shutdown (TERM) waits for every pooled connection; INT is its
            # fast shutdown, sent to the postmaster alone, which stops its own children.
            is_postgres = name == "postgres"
            sections += [
                f"[program:{name}]",
                f"command={command}",
                "autostart=false",
                "autorestart=true",
                "startsecs=2",
                "startretries=100",
                f"stopsignal={'INT' if is_postgres else 'TERM'}",
                f"stopwaitsecs={25 if is_service else 40}",
                f"stopasgroup={'false' if is_postgres else 'true'}",
                "killasgroup=true",
                # Stop order is the reverse: gateway first, infrastructure last.
                f"priority={300 if name == 'gateway' else 200 if is_service else 100}",
                "redirect_stderr=true",
                f"stdout_logfile={self._log(name)}",
                "stdout_logfile_maxbytes=20MB",
                "stdout_logfile_backups=2",
                "",
            ]
        self.config_path.write_text("\n".join(sections))

    def _command(self, name: str) -> str:
        pidfile = self.run_dir / f"{name}.pid"
        argv = self._argv(name)
        script = f"echo $$ > {shlex.quote(str(pidfile))}; exec {shlex.join(argv)}"
        return f"/bin/sh -c {shlex.quote(script)}".replace("%", "%%")

    def _argv(self, name: str) -> list[str]:
        data = self.profile.data_dir
        if name == "kafka":
            return self._kafka_argv(data / "kafka")
        if name == "mongodb":
            (data / "mongodb").mkdir(parents=True, exist_ok=True)
            mongod = shutil.which("mongod")
            if mongod:
                return [
                    mongod,
                    "--dbpath",
                    str(data / "mongodb"),
                    "--port",
                    str(self.port("mongodb")),
                    "--bind_ip",
                    "127.0.0.1",
                ]
            return [
                str(install.ferretdb_binary()),
                "--handler=sqlite",
                f"--sqlite-url=file:{data / 'mongodb'}/",
                f"--state-dir={data / 'mongodb'}",
                f"--listen-addr=127.0.0.1:{self.port('mongodb')}",
                "--telemetry=disable",
                "--log-level=warn",
                "--debug-addr=-",
            ]
        if name == "postgres":
            user = postgres.server_user()
            durable = not self.profile.fresh_data
            postgres.prepare(data / "postgres", user=user, durable=durable)
            return postgres.argv(
                data / "postgres", self.port("postgres"), user=user, durable=durable
            )
        if name == "redis":
            (data / "redis").mkdir(parents=True, exist_ok=True)
            return [
                install.redis_server(),
                "--port",
                str(self.port("redis")),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(data / "redis"),
                "--appendonly",
                "yes",
                "--save",
                "",
                "--protected-mode",
                "yes",
            ]
        return [str(Path(sys.executable).with_name(SERVICE_SCRIPTS[name]))]

    def _kafka_argv(self, data: Path) -> list[str]:
        classpath = install.kafka_classpath()
        properties = self.run_dir / "kafka-server.properties"
        template = (REPO / "infra" / "kafka" / "server.properties.template").read_text()
        properties.write_text(
            template.format(
                port=self.port("kafka"),
                controller_port=self.port("kafka_controller"),
                data_dir=data,
            )
        )
        java = [
            "java",
            "-Xms256m",
            "-Xmx768m",
            "-XX:+UseG1GC",
            f"-Dlog4j2.configurationFile={REPO / 'infra' / 'kafka' / 'log4j2.yaml'}",
            "-cp",
            classpath,
        ]
        if not (data / "meta.properties").exists():
            with step("formatting Kafka storage (KRaft, first start only)"):
                data.mkdir(parents=True, exist_ok=True)
                install.run_checked(
                    *java,
                    "kafka.tools.StorageTool",
                    "format",
                    "-t",
                    _kafka_cluster_id(),
                    "-c",
                    str(properties),
                )
        return [*java, "kafka.Kafka", str(properties)]


def _kafka_cluster_id() -> str:
    # Kafka wants a base64url-encoded UUID without padding.
    import base64

    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is dead for our purposes.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return True


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.3)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _http_ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _wait_until(condition: object, timeout_s: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    next_note = time.monotonic() + 10
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        if time.monotonic() > next_note:
            say(f"    still waiting for {what} ...")
            next_note = time.monotonic() + 10
        time.sleep(0.2)
    tail = ""
    if log and log.exists():
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
        tail = f"\n--- last lines of {log} ---\n{tail}"
    raise TimeoutError(f"timed out after {timeout_s:.0f}s waiting for {what}{tail}")
