from __future__ import annotations

import pytest

from bench.cpu import (
    ProcStat,
    busy_ticks,
    cpu_percent,
    descendants_and_self,
    parse_proc_stat,
    parse_steal_ticks,
    reference_work,
    summarize,
)

pytestmark = pytest.mark.unit

# utime 1200 and stime 34 are fields 14 and 15 of the line.
STAT = (
    "4242 (python (uvicorn) x) S 1 4242 4242 0 -1 4194560 5000 0 12 0 1200 34 0 0 20 0 "
    "5 0 1000 123456789 2000 18446744073709551615 1 1 0 0 0 0 0 16781312 16386 0 0 0 17 1 0 0"
)


def test_a_stat_line_with_spaces_and_parentheses_in_the_name_parses() -> None:
    assert parse_proc_stat(STAT) == ProcStat(pid=4242, ppid=1, cpu_ticks=1234)


def test_a_component_is_its_process_and_every_descendant() -> None:
    stats = {
        pid: ProcStat(pid, ppid, 0)
        for pid, ppid in [(10, 1), (11, 10), (12, 11), (13, 10), (20, 1), (21, 20)]
    }
    assert descendants_and_self(10, stats) == {10, 11, 12, 13}
    assert descendants_and_self(99, stats) == set()


def test_only_processes_present_in_both_samples_count() -> None:
    before = {1: 100, 2: 50, 3: 70}  # 3 exits before the next sample
    after = {1: 160, 2: 50, 4: 5000}  # 4 is new: its past ticks are not this interval's
    assert busy_ticks(before, after) == 60
    assert busy_ticks({1: 100}, {1: 90}) == 0  # a reused PID never counts negative


def test_cpu_percent_is_of_one_core() -> None:
    assert cpu_percent(250, seconds=2.5, ticks_per_s=100) == pytest.approx(100)
    assert cpu_percent(400, seconds=1, ticks_per_s=200) == pytest.approx(200)  # two cores
    assert cpu_percent(10, seconds=0, ticks_per_s=100) == 0


def test_summaries_give_mean_and_max() -> None:
    use = summarize([10.0, 30.0, 50.0])
    assert (use.mean_pct, use.max_pct) == (30.0, 50.0)
    assert summarize([]).max_pct == 0


def test_steal_is_read_from_the_machines_cpu_line() -> None:
    proc_stat = "cpu  7000 10 900 50000 30 0 40 2500 0 0\ncpu0 3500 5 450 25000 15 0 20 1250 0 0\n"

    assert parse_steal_ticks(proc_stat) == 2500
    assert parse_steal_ticks("intr 1 2 3\n") == 0


def test_the_reference_work_is_the_same_work_every_run() -> None:
    """Runs compare by the time this work takes, so the work itself must never change."""
    assert reference_work() == ("6d65aa541220a4fe68a48601836c5772465c467901b17b87046cc29e2c42a0a8")
