"""A request head over MAX_REQUEST_HEADER_BYTES is refused at the socket, never read whole
(issue 21, finding 15): a real server (``serve``), a real socket, the server's memory watched."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.integration

LIMIT = 16_384
SERVER = f"""
import sys
from pydantic import Field
from orderhub_common.app import create_service_app, serve
from orderhub_common.settings import ServiceSettings, env

class ProbeSettings(ServiceSettings):
    port: int = Field(0, validation_alias=env("PROBE_PORT"))

settings = ProbeSettings(
    environment="test", port=int(sys.argv[1]), max_request_header_bytes={LIMIT}, log_level="WARNING"
)
serve("probe", settings, lambda: create_service_app(settings=settings, title="probe"))
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[int, int]]:
    """(port, pid) of a service run by ``serve``, as every service runs."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", SERVER, str(port)])
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            assert time.monotonic() < deadline, "the probe server did not start"
            time.sleep(0.1)
        yield port, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def peak_memory_kb(pid: int) -> int:
    """The process's peak resident memory (VmHWM): what a request made it hold at its worst."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def exchange(port: int, head: bytes, body_chunks: Iterator[bytes] = iter(())) -> bytes:
    """Sends ``head`` then ``body_chunks`` (stopping when the server hangs up) and returns what
    the server answered before closing (b"" if the connection was reset)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        answer = b""
        with contextlib.suppress(ConnectionError):
            connection.sendall(head)
            for chunk in body_chunks:
                connection.sendall(chunk)
        with contextlib.suppress(ConnectionError, TimeoutError):
            while data := connection.recv(65536):
                answer += data
                if b"\r\n\r\n" in answer and b"connection: close" not in answer.lower():
                    break
        return answer


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_an_8_mb_header_costs_the_server_no_more_than_the_limit(server: tuple[int, int]) -> None:
    port, pid = server
    for _ in range(3):  # warm up: the first requests allocate what every request reuses
        exchange(port, b"GET /healthz HTTP/1.1\r\nHost: probe\r\n\r\n")
    before = peak_memory_kb(pid)

    header_chunks = (b"a" * 65_536 for _ in range(128))  # 8 MB of one header's value
    answer = exchange(port, b"GET /healthz HTTP/1.1\r\nHost: probe\r\nX-Big: ", header_chunks)
    time.sleep(0.5)
    grown_kb = peak_memory_kb(pid) - before

    assert answer == b"" or answer.startswith(b"HTTP/1.1 431")
    assert grown_kb < 2048, f"the server's peak memory grew by {grown_kb} kB"


def test_a_head_over_the_limit_is_a_431_and_the_connection_closes(
    server: tuple[int, int],
) -> None:
    port, _ = server
    answer = exchange(
        port, b"GET /healthz HTTP/1.1\r\nHost: probe\r\nX-Big: " + b"a" * LIMIT + b"\r\n\r\n"
    )

    assert answer.startswith(b"HTTP/1.1 431")
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["error"]["code"] == "headers_too_large"


def test_requests_under_the_limit_pass_one_after_another_on_one_connection(
    server: tuple[int, int],
) -> None:
    port, _ = server
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        answers = [
            client.get("/healthz", headers={"X-Note": "a" * (LIMIT // 2)}).status_code
            for _ in range(5)
        ]
        body = client.post("/nowhere", content=b"x" * 200_000)  # a body is not a head

    assert answers == [200] * 5
    assert body.status_code == 404


def write_calls(pid: int) -> int:
    """How many write calls the process has made (``syscw``; a socket write counts)."""
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("syscw:"):
            return int(line.split()[1])
    raise AssertionError("no syscw")


@pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="reads /proc")
def test_an_answer_leaves_the_server_in_one_write(server: tuple[int, int]) -> None:
    port, pid = server
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        assert client.get("/healthz").status_code == 200  # connected, and warm
        before = write_calls(pid)
        answers = [client.get("/healthz").status_code for _ in range(40)]
        written = write_calls(pid) - before

    assert answers == [200] * 40
    # uvicorn alone writes a head, then a body: 80.
    assert written <= 44, f"{written} writes for 40 answers"
