"""Where the CPU of a request goes: ``py-spy`` attached to the Python services during a step.

Optional: with ``py-spy`` beside the bench's Python (the dev dependencies install it) or on the
PATH (it needs permission to read the services' memory, as their own user or root), the bench
records each service for a while during its profiled step and keeps, per service, the functions
that spent most of its CPU themselves (own time, the innermost frame of each sample; samples of
an idle event loop or of a worker thread waiting for work left out). Without it, the page says
how to get them.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

PROFILED = ("gateway", "orders", "auth")
SAMPLES_PER_S = 100
# Innermost frames of a process with nothing to do.
_IDLE = ("Runner.run", "Condition.wait", "_worker", "select", "epoll", "Queue.get", "sleep")


def py_spy() -> str | None:
    """The virtual environment's own py-spy first: ``make bench`` runs its Python without
    activating the environment, so its ``bin`` is not on the PATH."""
    return shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")


def own_time(raw: str, top: int = 3) -> list[tuple[str, float]]:
    """The ``top`` functions by share of the busy samples in which they were the innermost frame,
    from ``py-spy record --format raw`` (one ``frame;frame;... count`` line per stack)."""
    own: Counter[str] = Counter()
    busy = 0
    for line in raw.splitlines():
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        innermost = stack.split(";")[-1]
        name = innermost.split(" (")[0].strip()
        where = (
            innermost[innermost.find("(") + 1 : innermost.rfind(")")] if "(" in innermost else ""
        )
        if name.endswith(_IDLE) or not name:
            continue
        module = Path(where.split(":")[0]).name if where else ""
        busy += int(count)
        own[f"{name} ({module})" if module else name] += int(count)
    return [(name, count / busy) for name, count in own.most_common(top)] if busy else []


def record(pids: dict[str, int], seconds: float) -> dict[str, list[tuple[str, float]]]:
    """Each process of ``pids`` recorded at once for ``seconds``; its top own-time functions."""
    command = py_spy()
    if command is None:
        return {}
    found: dict[str, list[tuple[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-profiles-") as folder:
        running = {}
        for name, pid in pids.items():
            output = Path(folder) / f"{name}.txt"
            # The bench's own py-spy with fixed arguments, stopped by its PID if it overruns.
            running[name] = (
                subprocess.Popen(  # noqa: S603
                    [command, "record", "--pid", str(pid), "--duration", str(int(seconds)),
                     "--rate", str(SAMPLES_PER_S), "--nonblocking", "--format", "raw",
                     "--output", str(output)],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                ),
                output,
            )  # fmt: skip
        for name, (process, output) in running.items():
            try:
                process.wait(timeout=seconds + 30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if output.exists():
                found[name] = own_time(output.read_text())
    return found
