"""Process and port helpers: PID files, liveness, open ports, HTTP probes, and waiting for them."""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from devstack.steps import say


def read_pid(path: Path) -> int | None:
    """The PID in ``path``, or None if the file is missing or holds no number."""
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def pid_alive(pid: int | None) -> bool:
    """True if ``pid`` names a live process (a zombie counts as dead)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return True


def stop_pid(pid: int, sig: signal.Signals, what: str, timeout_s: float = 20) -> None:
    """Sends ``sig`` and waits for the process to exit; SIGKILL if it is still alive after."""
    os.kill(pid, sig)
    try:
        wait_until(lambda: not pid_alive(pid), timeout_s, f"{what} (pid {pid}) to exit")
    except TimeoutError:
        os.kill(pid, signal.SIGKILL)


def port_open(port: int) -> bool:
    """True if something accepts TCP connections on 127.0.0.1:``port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.3)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def http_ok(url: str) -> bool:
    """True if a GET of ``url`` answers 200 within two seconds."""
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def wait_until(
    condition: Callable[[], bool], timeout_s: float, what: str, log: Path | None = None
) -> None:
    """Polls ``condition`` until it holds; on timeout raises TimeoutError with ``log``'s tail."""
    deadline = time.monotonic() + timeout_s
    next_note = time.monotonic() + 10
    while time.monotonic() < deadline:
        if condition():
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
