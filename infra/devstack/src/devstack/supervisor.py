"""supervisord for one profile: its configuration, and supervisorctl to drive it.

Every program runs through a tiny ``/bin/sh`` wrapper,
``echo $$ > .run/<name>.pid; . .run/env/<name>.env; exec <argv>``: ``exec`` keeps the PID, so
the PID file names the real process, and the program's extra environment (empty unless
``Stack.restart_with`` set one) is read at each start, so changing it needs only a restart of that
program. A program with credentials of its own (a service's Kafka user) reads them first from
``.run/env/<name>.credentials`` (0600), so they are on no command line and in no other process.
Output goes to ``.run/logs/<name>.log``. Programs never start by themselves
(``autostart=false``): the stack starts them in order and waits for each to be ready;
supervisord restarts any that dies (``autorestart``).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from devstack.components import Component
from devstack.install import REPO
from devstack.processes import pid_alive, read_pid, wait_until

SUPERVISORD = Path(sys.executable).with_name("supervisord")
SUPERVISORCTL = Path(sys.executable).with_name("supervisorctl")


class Supervisor:
    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.logs_dir = run_dir / "logs"
        self.config_path = run_dir / "supervisord.conf"
        self.pidfile = run_dir / "supervisord.pid"
        self.socket = run_dir / "supervisor.sock"
        self.environment_dir = run_dir / "env"

    def program_pidfile(self, name: str) -> Path:
        return self.run_dir / f"{name}.pid"

    def log(self, name: str) -> Path:
        return self.logs_dir / f"{name}.log"

    def is_running(self) -> bool:
        return pid_alive(read_pid(self.pidfile))

    # Configuration -------------------------------------------------------------------------------
    def write_config(
        self, programs: Sequence[tuple[Component, list[str], Mapping[str, str]]]
    ) -> None:
        """Writes the configuration for ``programs`` (each with its command line and its own
        credentials, as environment variables).

        Creates an empty extra-environment file for each program that has none yet, and never
        changes one that exists: a running program's extra environment outlives a rewrite.
        """
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        self.environment_dir.mkdir(parents=True, exist_ok=True)
        sections = [
            "[supervisord]",
            f"logfile={self.logs_dir / 'supervisord.log'}",
            f"pidfile={self.pidfile}",
            "loglevel=info",
            "nodaemon=false",
            f"directory={REPO}",
            "",
            "[unix_http_server]",
            f"file={self.socket}",
            "chmod=0700",
            "",
            "[supervisorctl]",
            f"serverurl=unix://{self.socket}",
            "",
            "[rpcinterface:supervisor]",
            "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
            "",
        ]
        for component, argv, credentials in programs:
            self._environment_file(component.name).touch()
            self._write_credentials(component.name, credentials)
            group = "true" if component.stop_process_group else "false"
            sections += [
                f"[program:{component.name}]",
                f"command={self._command(component.name, argv, bool(credentials))}",
                "autostart=false",
                "autorestart=true",
                "startsecs=2",
                "startretries=100",
                f"stopsignal={component.stop_signal.name.removeprefix('SIG')}",
                f"stopwaitsecs={component.stop_wait_s}",
                f"stopasgroup={group}",
                "killasgroup=true",
                f"priority={component.priority}",
                "redirect_stderr=true",
                f"stdout_logfile={self.log(component.name)}",
                "stdout_logfile_maxbytes=20MB",
                "stdout_logfile_backups=2",
                "",
            ]
        self.config_path.write_text("\n".join(sections))

    def _command(self, name: str, argv: list[str], has_credentials: bool) -> str:
        pidfile = shlex.quote(str(self.program_pidfile(name)))
        environment = shlex.quote(str(self._environment_file(name)))
        own = f". {shlex.quote(str(self._credentials_file(name)))}; " if has_credentials else ""
        script = f"echo $$ > {pidfile}; {own}. {environment}; exec {shlex.join(argv)}"
        # supervisord expands %(...)s in its configuration; a literal % is written %%.
        return f"/bin/sh -c {shlex.quote(script)}".replace("%", "%%")

    def _environment_file(self, name: str) -> Path:
        return self.environment_dir / f"{name}.env"

    def _credentials_file(self, name: str) -> Path:
        return self.environment_dir / f"{name}.credentials"

    def _write_credentials(self, name: str, credentials: Mapping[str, str]) -> None:
        path = self._credentials_file(name)
        if not credentials:
            path.unlink(missing_ok=True)
            return
        path.touch(mode=0o600)
        path.chmod(0o600)
        path.write_text("".join(f"export {k}={shlex.quote(v)}\n" for k, v in credentials.items()))

    def set_extra_environment(self, name: str, environment: Mapping[str, str]) -> None:
        """What ``name`` gets on top of the stack's environment from its next start on."""
        bad = [key for key in environment if not _is_variable_name(key)]
        if bad:
            raise ValueError(f"not environment variable names: {', '.join(bad)}")
        lines = [f"export {key}={shlex.quote(value)}\n" for key, value in environment.items()]
        self.environment_dir.mkdir(parents=True, exist_ok=True)
        self._environment_file(name).write_text("".join(lines))

    def clear_extra_environments(self) -> None:
        for path in self.environment_dir.glob("*.env"):
            path.unlink()

    # supervisord and supervisorctl ------------------------------------------------------------
    def launch(self, environment: Mapping[str, str]) -> None:
        """Starts supervisord (it daemonizes) with ``environment``; returns once it answers."""
        subprocess.run(
            [str(SUPERVISORD), "-c", str(self.config_path)],
            env={**os.environ, **environment},
            check=True,
            cwd=REPO,
        )
        wait_until(self.socket.exists, 15, "supervisord")

    def programs(self) -> set[str]:
        """The programs the running supervisord knows (whatever their state)."""
        return {line.split()[0] for line in self.ctl("status", check=False).splitlines() if line}

    def add(self, names: Sequence[str]) -> None:
        """Makes a running supervisord load the new ``names`` from the rewritten configuration."""
        self.ctl("reread")
        for name in names:
            self.ctl("add", name)

    def remove(self, name: str) -> None:
        """Makes a running supervisord forget a stopped program the configuration no longer has."""
        self.ctl("reread")
        self.ctl("remove", name)

    def reload(self, name: str) -> None:
        """Replaces one stopped program's definition by the one in the rewritten configuration."""
        self.ctl("reread")
        self.ctl("update", name)

    def start(self, name: str) -> None:
        output = self.ctl("start", name, check=False)
        if "no such process" in output:
            raise RuntimeError(f"supervisord has no program {name}: {output.strip()}")

    def stop(self, name: str) -> None:
        """Stops one program (stop signal, then SIGKILL after its wait); a stopped one stays so."""
        output = self.ctl("stop", name, check=False)
        if "stopped" not in output and "not running" not in output:
            raise RuntimeError(f"supervisorctl stop {name}: {output.strip()}")

    def shutdown(self, timeout_s: float) -> None:
        """Stops every program in reverse priority, then supervisord; waits for it to exit."""
        supervisord_pid = read_pid(self.pidfile)
        self.ctl("shutdown", check=False)
        wait_until(lambda: not pid_alive(supervisord_pid), timeout_s, "supervisord to exit")

    def status(self) -> str:
        return self.ctl("status", check=False)

    def ctl(self, *args: str, check: bool = True) -> str:
        result = subprocess.run(
            [str(SUPERVISORCTL), "-c", str(self.config_path), *args],
            capture_output=True,
            text=True,
            check=False,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"supervisorctl {' '.join(args)}: {result.stdout}{result.stderr}")
        return result.stdout


def _is_variable_name(key: str) -> bool:
    return key.isidentifier() and key.isascii()
