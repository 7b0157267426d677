"""The machine a benchmark ran on, from /proc and /etc/os-release."""

from __future__ import annotations

import os
import platform
import sys
from importlib.metadata import version
from pathlib import Path

from bench.results import Machine


def parse_memory_gib(meminfo: str) -> float:
    for line in meminfo.splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 1024**2, 1)  # the figure is in KiB
    return 0.0


def parse_cpu_model(cpuinfo: str) -> str:
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in {"model name", "Model"}:
            return value.strip()
    return platform.processor() or "unknown"


def parse_os_name(os_release: str) -> str:
    for line in os_release.splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.partition("=")[2].strip().strip('"')
    return platform.system()


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def this_machine() -> Machine:
    return Machine(
        cores=os.cpu_count() or 0,
        memory_gib=parse_memory_gib(_read("/proc/meminfo")),
        cpu_model=parse_cpu_model(_read("/proc/cpuinfo")),
        os=parse_os_name(_read("/etc/os-release")),
        kernel=platform.release(),
        # Which build, too: the reference work's time depends on it (docs/TECHNICAL.md 5.2).
        python=f"{platform.python_version()} ({os.path.realpath(sys.executable)})",
        locust=version("locust"),
    )
