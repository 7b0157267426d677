"""docs/THREAT_MODEL.md claims no mitigation without its test: every threat names at least one
test, and every test it names exists (the file, and the test function where one is named)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[1]
THREAT_MODEL = REPO / "docs" / "THREAT_MODEL.md"
# `path/to/file.ext`, `path/to/test_file.py::test_name[param]`, or `::test_name` (in the file
# named before it)
REFERENCE = re.compile(r"`([\w./-]+\.(?:py|ts|tsx))?(?:::(\w+)(?:\[[^\]]*\])?)?`")


def _threat_rows() -> list[tuple[str, str]]:
    rows = []
    for line in THREAT_MODEL.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if re.fullmatch(r"T\d+", cells[0]):
            rows.append((cells[0], cells[-1]))
    return rows


def test_every_threat_names_tests_that_exist() -> None:
    rows = _threat_rows()
    assert len(rows) >= 28
    wrong = []
    for threat, tests in rows:
        references = [(p, n) for p, n in REFERENCE.findall(tests) if p or n]
        if not references:
            wrong.append(f"{threat}: names no test")
        last = ""
        for named_path, name in references:
            path = last = named_path or last
            file = REPO / path
            if not file.is_file():
                wrong.append(f"{threat}: {path} does not exist")
            elif name and not re.search(rf"^\s*(async )?def {name}\(", file.read_text(), re.M):
                wrong.append(f"{threat}: {path} has no test {name}")
    assert wrong == []
