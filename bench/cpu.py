"""CPU of each stack component during a step, from ``.run/<component>.pid`` and ``/proc``.

A component is its process and every descendant (PostgreSQL's backends, a service's workers).
Between two samples only processes present in both count, so a child that exits or appears in
between never makes a negative or inflated figure.

Beside the components, ``steal``: the CPU time the hypervisor gave to other guests while this
machine's cores wanted it (``/proc/stat``). On a shared virtual machine it can take a third of
the cores under load, and every figure of a step is measured on what is left.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from bench.results import CpuUse

CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")
STEAL = "steal"
# The reference work: order-sized documents through JSON and a hash, what the services spend
# most of their CPU on, the same every run.
_REFERENCE_ORDERS = [
    {
        "id": f"ord_{n:024x}",
        "status": "PLACED",
        "customer": {"name": f"Customer {n}", "email": f"c{n}@example.com"},
        "items": [{"sku": f"SKU-{n}-{i}", "qty": i + 1, "price": 499.0 + i} for i in range(3)],
        "total": 1_500.0 + n,
    }
    for n in range(100)
]
_REFERENCE_ROUNDS = 150


@dataclass(frozen=True)
class ProcStat:
    pid: int
    ppid: int
    cpu_ticks: int  # utime + stime


def parse_proc_stat(text: str) -> ProcStat:
    """Parses one ``/proc/<pid>/stat`` line; the command name may hold spaces and parentheses."""
    pid_part, _, rest = text.partition(" (")
    fields = rest.rsplit(") ", 1)[1].split()
    # After the name: state ppid ... utime is field 14 of the line and stime field 15.
    return ProcStat(
        pid=int(pid_part), ppid=int(fields[1]), cpu_ticks=int(fields[11]) + int(fields[12])
    )


def descendants_and_self(root: int, stats: Mapping[int, ProcStat]) -> set[int]:
    children: dict[int, list[int]] = {}
    for stat in stats.values():
        children.setdefault(stat.ppid, []).append(stat.pid)
    tree, pending = set(), [root]
    while pending:
        pid = pending.pop()
        if pid in stats and pid not in tree:
            tree.add(pid)
            pending.extend(children.get(pid, []))
    return tree


def busy_ticks(before: Mapping[int, int], after: Mapping[int, int]) -> int:
    """CPU ticks spent between two samples by the processes present in both."""
    return sum(max(0, after[pid] - before[pid]) for pid in after.keys() & before.keys())


def reference_work() -> str:
    """The fixed piece of work ``reference_work_ms`` times; its digest never changes."""
    digest = hashlib.sha256()
    for round_ in range(_REFERENCE_ROUNDS):
        text = json.dumps({"round": round_, "orders": _REFERENCE_ORDERS}, sort_keys=True)
        digest.update(json.dumps(json.loads(text), sort_keys=True).encode())
    return digest.hexdigest()


def reference_work_ms(tries: int = 3) -> float:
    """The least CPU, in milliseconds, the reference work took in ``tries`` tries: how fast the
    host runs Python now. This shared host runs the same code 25-30% slower in a slow hour, so
    two runs' CPU figures compare only beside their reference times."""
    spent = []
    for _ in range(tries):
        start = time.process_time()
        reference_work()
        spent.append((time.process_time() - start) * 1000)
    return round(min(spent), 1)


def cpu_percent(ticks: int, seconds: float, ticks_per_s: float = CLOCK_TICKS_PER_S) -> float:
    """Percent of one core; 200 means two cores fully busy."""
    return 100 * ticks / ticks_per_s / seconds if seconds > 0 else 0.0


def summarize(percents: list[float]) -> CpuUse:
    if not percents:
        return CpuUse(mean_pct=0.0, max_pct=0.0)
    return CpuUse(mean_pct=round(sum(percents) / len(percents), 1), max_pct=round(max(percents), 1))


def parse_steal_ticks(proc_stat: str) -> int:
    """The machine's stolen ticks: the eighth value of ``/proc/stat``'s first (``cpu``) line."""
    fields = proc_stat.split("\n", 1)[0].split()
    return int(fields[8]) if fields[0] == "cpu" and len(fields) > 8 else 0


def read_all_stats(proc: Path = Path("/proc")) -> dict[int, ProcStat]:
    stats = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = parse_proc_stat((entry / "stat").read_text())
        except (OSError, ValueError, IndexError):
            continue  # gone between listing and reading, or a kernel thread oddity
        stats[stat.pid] = stat
    return stats


class CpuSampler:
    """Samples every component's CPU once per ``interval_s`` on a thread, inside a ``with``.

    ``roots`` is asked for the components' root PIDs at every sample, so a component that is
    restarted meanwhile is followed under its new PID.
    """

    def __init__(self, roots: Callable[[], dict[str, int]], interval_s: float = 1.0) -> None:
        self._roots = roots
        self._interval_s = interval_s
        self._stopped = threading.Event()
        # (epoch seconds at the end of the interval, component, percent of one core)
        self._samples: list[tuple[float, str, float]] = []
        self._thread = threading.Thread(target=self._run, name="cpu-sampler", daemon=True)

    def __enter__(self) -> CpuSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stopped.set()
        self._thread.join()

    def usage(self, start: float, end: float) -> dict[str, CpuUse]:
        """Each component's use over the intervals that ended within ``[start, end]``."""
        percents: dict[str, list[float]] = {}
        for at, name, percent in self._samples:
            if start <= at <= end:
                percents.setdefault(name, []).append(percent)
        return {name: summarize(values) for name, values in sorted(percents.items())}

    def _sample(self) -> dict[str, dict[int, int]]:
        stats = read_all_stats()
        sample = {
            name: {pid: stats[pid].cpu_ticks for pid in descendants_and_self(root, stats)}
            for name, root in self._roots().items()
        }
        sample[STEAL] = {0: parse_steal_ticks(Path("/proc/stat").read_text())}
        return sample

    def _run(self) -> None:
        previous, previous_at = self._sample(), time.monotonic()
        while not self._stopped.wait(self._interval_s):
            current, now = self._sample(), time.monotonic()
            for name, ticks in current.items():
                if name in previous:
                    percent = cpu_percent(busy_ticks(previous[name], ticks), now - previous_at)
                    self._samples.append((time.time(), name, percent))
            previous, previous_at = current, now
