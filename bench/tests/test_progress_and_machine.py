from __future__ import annotations

import pytest

from bench.machine import parse_cpu_model, parse_memory_gib, parse_os_name
from bench.progress import format_duration, render_bar

pytestmark = pytest.mark.unit


def test_the_progress_line_shows_count_share_rate_and_time_left() -> None:
    line = render_bar(5_000, 10_000, elapsed_s=60, width=10)
    assert line.startswith("[#####-----]")
    assert "5,000/10,000" in line
    assert "50%" in line
    assert "83.3 orders/s" in line
    assert line.endswith("ETA 1m00s")


def test_the_bar_stays_full_and_drops_the_eta_once_everything_arrived() -> None:
    line = render_bar(10_250, 10_000, elapsed_s=100, width=10)
    assert line.startswith("[##########]")
    assert "ETA" not in line
    assert "0.0 orders/s" in render_bar(0, 10, elapsed_s=0)


def test_durations_are_short() -> None:
    assert [format_duration(s) for s in (0, 42.4, 185, 3720)] == ["0s", "42s", "3m05s", "1h02m"]


def test_the_machine_is_read_from_proc_and_os_release() -> None:
    assert parse_memory_gib("MemTotal:       24576000 kB\nMemFree: 1 kB\n") == 23.4
    assert parse_cpu_model("processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Processor\n") == (
        "Intel(R) Xeon(R) Processor"
    )
    assert parse_os_name('NAME="Debian"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n') == (
        "Debian GNU/Linux 12 (bookworm)"
    )
