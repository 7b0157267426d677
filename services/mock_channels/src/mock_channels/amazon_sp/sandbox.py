"""Amazon's static sandbox: each operation's ``x-amzn-api-sandbox.static`` cases from the models,
a request matched to its case by parameters, answered with the case's response exactly.

As in Amazon's sandbox, a case matches when every parameter it names is in the request with that
value (the request may carry more); the case naming the most parameters wins; a request no case
matches gets Amazon's sandbox answer, 400 ``InvalidInput`` "Could not match input arguments".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mock_channels.amazon_sp.model import ORDERS_MODEL, TOKENS_MODEL, operations

NO_MATCH = {"errors": [{"code": "InvalidInput", "message": "Could not match input arguments"}]}


@dataclass(frozen=True)
class SandboxCase:
    status: int
    parameters: dict[str, Any]
    response: Any  # None for a 204

    def matches(self, given: dict[str, Any]) -> bool:
        return all(
            name in given and given[name] == value for name, value in self.parameters.items()
        )


@dataclass(frozen=True)
class SandboxOperation:
    operation_id: str
    method: str
    path: str  # the model's path template
    array_parameters: frozenset[str]  # query parameters Amazon reads as lists
    cases: tuple[SandboxCase, ...]

    def answer(self, given: dict[str, Any]) -> tuple[int, Any]:
        matching = [case for case in self.cases if case.matches(given)]
        if not matching:
            return 400, NO_MATCH
        best = max(matching, key=lambda case: len(case.parameters))
        return best.status, best.response


def sandbox_operations() -> list[SandboxOperation]:
    found = []
    for model in (ORDERS_MODEL, TOKENS_MODEL):
        for operation_id, (method, path, operation) in operations(model).items():
            cases = []
            for status, response in operation["responses"].items():
                for case in response.get("x-amzn-api-sandbox", {}).get("static", []):
                    parameters = {
                        name: spec["value"]
                        for name, spec in case["request"].get("parameters", {}).items()
                    }
                    cases.append(SandboxCase(int(status), parameters, case.get("response")))
            arrays = frozenset(
                p["name"]
                for p in operation.get("parameters", [])
                if p.get("in") == "query" and p.get("type") == "array"
            )
            found.append(SandboxOperation(operation_id, method, path, arrays, tuple(cases)))
    return found
