"""Shopify's query cost and its leaky bucket, as the simulator charges them.

The cost of a selection (Shopify's calculated query cost, simplified): an object costs 1, a
connection or list asked with ``first`` costs 2 plus, requested, ``first`` times one node, and,
actual, the nodes returned; scalars, enums and ``pageInfo`` cost nothing; a mutation costs 10.
A call must find its requested cost in the bucket (else ``THROTTLED``, and nothing runs); it is
then charged its actual cost. The bucket holds ``maximum`` points and gets ``restore_rate`` back
a second (Shopify's standard plan: 1000 and 50).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from graphql import (
    FieldNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    value_from_ast_untyped,
)

MUTATION_COST = 10
_FREE = {"pageInfo", "__typename"}


class CostBucket:
    def __init__(
        self, maximum: float, restore_rate: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.maximum = maximum
        self.restore_rate = restore_rate
        self._clock = clock
        self._available = maximum
        self._at = clock()
        self.throttled = 0  # calls answered THROTTLED, for tests and the logs

    def available(self) -> float:
        now = self._clock()
        self._available = min(self.maximum, self._available + (now - self._at) * self.restore_rate)
        self._at = now
        return self._available

    def take(self, points: float) -> bool:
        if self.available() < points:
            self.throttled += 1
            return False
        self._available -= points
        return True

    def give_back(self, points: float) -> None:
        self._available = min(self.maximum, self.available() + max(points, 0))

    def drain(self) -> None:
        self.available()
        self._available = 0

    def status(self) -> dict[str, float]:
        return {
            "maximumAvailable": float(self.maximum),
            "currentlyAvailable": round(self.available(), 1),
            "restoreRate": float(self.restore_rate),
        }


def operation_cost(
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any],
    data: Mapping[str, Any] | None,
) -> int:
    """The requested cost (``data`` None) or the actual one (over what was answered)."""
    if operation.operation == OperationType.MUTATION:
        return MUTATION_COST * len(operation.selection_set.selections)
    return _selection_cost(operation.selection_set, variables, data, requested=data is None)


def _fields(selection_set: SelectionSetNode | None) -> list[FieldNode]:
    if selection_set is None:
        return []
    return [s for s in selection_set.selections if isinstance(s, FieldNode)]


def _first(field: FieldNode, variables: Mapping[str, Any]) -> int | None:
    for argument in field.arguments or ():
        if argument.name.value == "first":
            value = value_from_ast_untyped(argument.value, dict(variables))
            return int(value) if isinstance(value, int) else None
    return None


def _node_selection(field: FieldNode) -> tuple[SelectionSetNode | None, str | None]:
    """What one node of a connection selects, and under which key the nodes are answered."""
    for child in _fields(field.selection_set):
        if child.name.value == "nodes":
            return child.selection_set, "nodes"
        if child.name.value == "edges":
            for grandchild in _fields(child.selection_set):
                if grandchild.name.value == "node":
                    return grandchild.selection_set, "edges"
    return field.selection_set, None


def _selection_cost(
    selection_set: SelectionSetNode | None,
    variables: Mapping[str, Any],
    data: Any,
    *,
    requested: bool,
) -> int:
    total = 0
    for field in _fields(selection_set):
        if field.selection_set is None or field.name.value in _FREE:
            continue
        key = field.alias.value if field.alias else field.name.value
        value = data.get(key) if isinstance(data, Mapping) else None
        first = _first(field, variables)
        if first is not None:
            nodes_selection, under = _node_selection(field)
            if requested:
                one = 1 + _selection_cost(nodes_selection, variables, None, requested=True)
                total += 2 + first * one
                continue
            nodes = _answered_nodes(value, under)
            total += 2 + sum(
                1 + _selection_cost(nodes_selection, variables, node, requested=False)
                for node in nodes
            )
            continue
        if requested:
            total += 1 + _selection_cost(field.selection_set, variables, None, requested=True)
        elif isinstance(value, list):
            total += sum(
                1 + _selection_cost(field.selection_set, variables, item, requested=False)
                for item in value
            )
        elif value is not None:
            total += 1 + _selection_cost(field.selection_set, variables, value, requested=False)
    return total


def _answered_nodes(value: Any, under: str | None) -> list[Any]:
    if isinstance(value, list):
        return value
    if not isinstance(value, Mapping):
        return []
    if under == "nodes":
        return list(value.get("nodes") or [])
    if under == "edges":
        return [edge.get("node") for edge in value.get("edges") or []]
    return []
