"""The Order Hub stack on one machine without Docker, run under supervisord.

supervisord (a mature process supervisor) starts every component, restarts any that dies, and
stops them gracefully (each its own stop signal, then a drain period) in reverse order. Each
component writes its own PID file (``.run/<name>.pid``, always the real process) and logs to
``.run/logs/<name>.log``. What the components are lives in ``components``, the two profiles
(``local`` for ``make up``, ``test`` for the tests) in ``profiles``, their addresses in
``addresses``, and the supervisord configuration and control in ``supervisor``; ``Stack`` puts
them together.

``Stack.restart_with(component, environment)`` (``devstack restart COMPONENT --env K=V ...``)
restarts one component with extra environment variables on top of its normal ones, for example
the gateway under a benchmark's rate limits; they last across crashes and restarts of that
component until ``restart_with`` without variables (``devstack restart COMPONENT``) restores its
normal environment, or until the stack stops.

A profile's ``replicas`` (``ORDERHUB_REPLICAS``) add a second ingest or orders replica, each a
component of its own (``ingest_2``, ``orders_2``) started after its first; ``add_replica`` and
``remove_replica`` do the same on a running stack. A second orders replica is refused while the
store is FerretDB: FerretDB 1.24's update is a read-modify-write, so two concurrent updates of one
order can both "succeed" and one is lost, and orders serializes the writes to one order only
inside its own process. MongoDB (``mongod`` on the PATH, or ``MONGODB_URL``) checks each write's
revision, so two orders replicas are safe there.
"""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Mapping
from pathlib import Path

from devstack import credentials, postgres
from devstack.addresses import Addresses
from devstack.components import (
    COMPONENTS,
    REPLICAS,
    SERVICES,
    Component,
    Site,
    component,
    migrate_orders,
    postgres_roles,
)
from devstack.install import REPO
from devstack.processes import pid_alive, port_open, read_pid, stop_pid, wait_until
from devstack.profiles import Profile, local_profile, test_profile
from devstack.steps import say, step
from devstack.supervisor import Supervisor

# What the tests and tools import from here (the facade), wherever it is defined.
__all__ = ["SERVICES", "Stack", "local_profile", "test_profile"]


class Stack:
    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.addresses = Addresses(profile)
        self.supervisor = Supervisor(profile.run_dir)
        self.run_dir = profile.run_dir
        self.logs_dir = self.supervisor.logs_dir
        # A MongoDB given from outside is used, not run.
        first = tuple(
            c
            for c in COMPONENTS
            if not (c.name == "mongodb" and profile.external_mongodb_url is not None)
        )
        # Each second replica right after its first, so it starts once its first is ready.
        self.components = tuple(
            replica
            for c in first
            for replica in (c, *([REPLICAS[c.name]] if c.name in profile.replicas else []))
        )

    # Replicas ------------------------------------------------------------------------------------
    @property
    def store_is_ferretdb(self) -> bool:
        """True when the store is the local FerretDB (no ``mongod`` on the PATH, no MONGODB_URL)."""
        return self.profile.external_mongodb_url is None and shutil.which("mongod") is None

    def check_replicas(self) -> None:
        """Refuses (``SystemExit``, saying why) a profile's second replica that is unsafe here.

        Checked when the stack starts, not when it is built: ``make down`` and ``make status``
        must work whatever ``ORDERHUB_REPLICAS`` says."""
        for service in self.profile.replicas:
            self._check_replica_safe(service)

    def _check_replica_safe(self, service: str) -> None:
        if service not in REPLICAS:
            raise ValueError(f"{service} cannot run a second replica; one of {', '.join(REPLICAS)}")
        if service == "orders" and self.store_is_ferretdb:
            raise SystemExit(
                "refusing a second orders replica: the store is FerretDB 1.24, whose update is a "
                "read-modify-write, so two replicas updating one order at once can both succeed "
                "and one update is lost (orders serializes the writes to one order only inside "
                "its own process). Run one orders replica here, or give the stack MongoDB "
                "(mongod on the PATH, or MONGODB_URL), which checks each write's revision."
            )

    def add_replica(self, service: str) -> None:
        """Starts a second replica of ``service`` on the running stack and waits until ready."""
        self._check_replica_safe(service)
        replica = REPLICAS[service]
        if replica not in self.components:
            self.components = (*self.components, replica)
            self._prepare([replica])
            self._write_config()
            self.supervisor.add([replica.name])
        self._start([replica])

    def remove_replica(self, service: str) -> None:
        """Stops the second replica of ``service`` (gracefully) and forgets it."""
        replica = REPLICAS[service]
        if replica not in self.components:
            return
        self.supervisor.stop(replica.name)
        self.components = tuple(c for c in self.components if c is not replica)
        self._write_config()
        self.supervisor.remove(replica.name)

    # Addresses -----------------------------------------------------------------------------------
    def port(self, name: str) -> int:
        return self.profile.port(name)

    @property
    def kafka_bootstrap(self) -> str:
        return self.addresses.kafka_bootstrap

    def kafka_environment(self) -> dict[str, str]:
        """The broker and its SASL credentials, as the variables ``KafkaSettings`` reads."""
        return self.addresses.kafka_environment()

    def kafka_settings(self) -> dict[str, str]:
        """The same as ``KafkaSettings`` keyword arguments (field names)."""
        return {key.lower(): value for key, value in self.kafka_environment().items()}

    @property
    def mongodb_url(self) -> str:
        return self.addresses.mongodb_url

    @property
    def postgres_url(self) -> str:
        """The role the orders service works as, on its database ``orderhub_orders``."""
        return self.addresses.postgres_url

    @property
    def postgres_owner_url(self) -> str:
        """The role that owns the database and migrates it (LOGIN CREATEDB)."""
        return self.addresses.postgres_owner_url

    @property
    def redis_url(self) -> str:
        return self.addresses.redis_url

    @property
    def redis_test_admin_url(self) -> str | None:
        return self.addresses.redis_test_admin_url

    def url(self, service: str) -> str:
        return self.addresses.url(service)

    def service_environment(self) -> dict[str, str]:
        return self.addresses.service_environment()

    # Lifecycle -----------------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self.supervisor.is_running()

    def ensure_infra_running(self) -> None:
        """Starts whichever of Kafka, the store, PostgreSQL and Redis is not up, and waits."""
        self._ensure_supervisord()
        self._start([c for c in self.components if not c.is_service])

    def up(self) -> None:
        """Starts whatever is not up, infrastructure first, and waits until each is ready."""
        self.check_replicas()
        self._ensure_supervisord()
        self._start(list(self.components))

    def start(self, name: str) -> None:
        self._start([component(name)])

    def stop(self, name: str) -> None:
        self.supervisor.stop(component(name).name)

    def provision(self, name: str) -> None:
        """Runs ``name``'s provisioning again (idempotent), e.g. PostgreSQL's roles and database."""
        target = component(name)
        if target.provision:
            target.provision(self._site(target))

    def provision_postgres_roles(self) -> None:
        """PostgreSQL's roles and database alone, without the migrations (a restore loads a dump
        into the empty database first, then migrates it: ``migrate_orders``)."""
        postgres_roles(self._site(component("postgres")))

    def migrate_orders(self) -> None:
        """``orders-migrate`` as at the stack's start: the query side at this release's schema."""
        migrate_orders(self._site(component("postgres")))

    def restart_with(self, name: str, environment: Mapping[str, str]) -> None:
        """Restarts ``name`` with ``environment`` on top of its normal environment; waits ready.

        An empty ``environment`` restores the normal one. Either way lasts until the next call
        or until the stack stops.
        """
        target = component(name)
        # Written (and checked) before the stop, so a bad name leaves the component running.
        self.supervisor.set_extra_environment(target.name, environment)
        self.supervisor.stop(target.name)
        # A program defined by an older configuration may not read its extra environment yet.
        self._write_config()
        self.supervisor.reload(target.name)
        self._start([target])

    def down(self, timeout_s: float = 90) -> None:
        """Stops everything gracefully and leaves no component process behind."""
        if not self.is_running():
            say("nothing to stop: the stack is not running")
            self._stop_leftovers()
            return
        with step(f"stopping the {self.profile.name} stack (graceful, drain)"):
            self.supervisor.shutdown(timeout_s)
            self._stop_leftovers()

    def status(self) -> str:
        return self.supervisor.status() if self.is_running() else "not running"

    # Components --------------------------------------------------------------------------------
    def pid(self, name: str) -> int | None:
        return read_pid(self.supervisor.program_pidfile(name))

    def kill(self, name: str, sig: signal.Signals = signal.SIGKILL) -> None:
        """Signals one component by its PID file; supervisord restarts it if it dies."""
        pid = self.pid(name)
        if pid and pid_alive(pid):
            os.kill(pid, sig)

    def wait_ready(self, name: str, timeout_s: float = 120) -> None:
        target = component(name)
        wait_until(
            lambda: target.is_ready(self._site(target)),
            timeout_s,
            f"{target.name} to be ready",
            self.supervisor.log(target.name),
        )

    def _site(self, target: Component) -> Site:
        return Site(
            name=target.name,
            port=self.port(target.name),
            ports=self.profile.ports,
            data_dir=self.profile.data_dir / target.data_dir if target.data_dir else None,
            run_dir=self.run_dir,
            environment=self.profile.environment,
            durable=not self.profile.fresh_data,
        )

    def _start(self, targets: list[Component]) -> None:
        for target in targets:
            with step(f"starting {target.name}"):
                self.supervisor.start(target.name)
                self.wait_ready(target.name)
                if target.provision:
                    target.provision(self._site(target))

    def _ensure_supervisord(self) -> None:
        if self.is_running():
            # A stack started by an older devstack may lack a component added since: add it.
            known = self.supervisor.programs()
            missing = [c for c in self.components if c.name not in known]
            if missing:
                self._prepare(missing)
                self._write_config()
                self.supervisor.add([c.name for c in missing])
            return
        if self.profile.fresh_data:
            shutil.rmtree(self.profile.data_dir, ignore_errors=True)
            shutil.rmtree(self.run_dir, ignore_errors=True)
        self.profile.data_dir.mkdir(parents=True, exist_ok=True)
        _private(self.profile.data_dir)
        self._check_ports_free()
        self.supervisor.clear_extra_environments()
        self._prepare(list(self.components))
        self._write_config()
        with step(f"starting supervisord ({self.profile.name} profile)"):
            # The broker's own (super) user is the operator's (``devstack run``), no component's:
            # each service signs in as its own user (``_credentials``).
            environment = self.service_environment()
            for variable in ("KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD"):
                environment.pop(variable)
            self.supervisor.launch(environment)

    def _prepare(self, targets: list[Component]) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        for target in targets:
            site = self._site(target)
            if site.data_dir is not None:
                site.data_dir.mkdir(parents=True, exist_ok=True)
                site.data_dir.chmod(0o700)
            if target.prepare:
                target.prepare(site)

    def _write_config(self) -> None:
        self.supervisor.write_config(
            [(c, c.argv(self._site(c)), self._credentials(c)) for c in self.components]
        )

    def _credentials(self, target: Component) -> dict[str, str]:
        """What ``target`` signs in with that no other process gets: its own Kafka user."""
        if target.kafka_user is None:
            return {}
        return credentials.kafka_service_user(self.profile.environment, target.kafka_user)

    def _check_ports_free(self) -> None:
        busy = [
            f"{port.name}:{self.port(port.name)}"
            for c in self.components
            for port in c.ports
            if port_open(self.port(port.name))
        ]
        if busy:
            raise SystemExit(
                f"ports already in use: {', '.join(busy)}; stop whatever holds them "
                "or set the *_PORT variables"
            )

    def _stop_leftovers(self) -> None:
        for target in (*COMPONENTS, *REPLICAS.values()):
            pidfile = self.supervisor.program_pidfile(target.name)
            pid = read_pid(pidfile)
            if pid and pid_alive(pid):
                say(f"{target.name} (pid {pid}) still running; sending {target.stop_signal.name}")
                stop_pid(pid, target.stop_signal, target.name)
            pidfile.unlink(missing_ok=True)


def _private(data_dir: Path) -> None:
    """The data folder (and ``.data`` above a profile's own) readable by its owner only: 0700.
    When started as root, PostgreSQL runs as ``postgres`` and must pass through to its own 0700
    cluster folder, so the folders above it are 0711 (enter, never list or read)."""
    mode = 0o711 if postgres.server_user() else 0o700
    folders = {data_dir, REPO / ".data"} if data_dir.is_relative_to(REPO / ".data") else {data_dir}
    for folder in folders:
        if folder.exists():
            folder.chmod(mode)
