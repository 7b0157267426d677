"""Every test module says what it needs (``pytestmark``), so ``-m unit`` runs without I/O and
``make test`` leaves the fault suite out."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[4]
TEST_TREES = ["services", "tests", "bench", "deploy"]


def declares_a_marker(module: Path) -> bool:
    tree = ast.parse(module.read_text(encoding="utf-8"))
    return any(
        isinstance(target, ast.Name) and target.id == "pytestmark"
        for statement in tree.body
        if isinstance(statement, ast.Assign | ast.AnnAssign)
        for target in (
            statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        )
    )


def all_test_modules() -> list[Path]:
    return [
        module
        for tree in TEST_TREES
        for module in sorted((ROOT / tree).rglob("test_*.py"))
        if ".venv" not in module.parts and "node_modules" not in module.parts
    ]


def test_every_test_module_declares_its_marker() -> None:
    modules = all_test_modules()
    assert len(modules) > 50, "the search found the repository's test modules"
    unmarked = [str(m.relative_to(ROOT)) for m in modules if not declares_a_marker(m)]
    assert unmarked == []
