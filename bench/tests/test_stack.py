"""The bench's settings are taken back from every service, even when one fails to restart."""

from __future__ import annotations

from typing import Any, cast

import pytest

from bench.stack import BENCH_ENV, bench_profile

pytestmark = pytest.mark.unit


class Stack:
    """Records restarts; ``orders`` fails to come back with its own settings."""

    def __init__(self) -> None:
        self.settings: dict[str, dict[str, str]] = {}

    def restart_with(self, component: str, environment: dict[str, str]) -> None:
        if component == "orders" and not environment:
            raise SystemExit("orders: the query side's schema is behind this release")
        self.settings[component] = environment


def test_a_service_that_fails_to_come_back_leaves_the_others_restored() -> None:
    stack = Stack()
    with pytest.raises(SystemExit, match="schema is behind"), bench_profile(cast(Any, stack)):
        assert all(stack.settings[c] == BENCH_ENV[c] for c in BENCH_ENV)
    assert {c: e for c, e in stack.settings.items() if c != "orders"} == {
        c: {} for c in BENCH_ENV if c != "orders"
    }
