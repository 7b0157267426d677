"""Amazon's Orders API v0 and Tokens API 2021-03-01 models, as Amazon publishes them.

Vendored unchanged (``models/``; the copies in ``../shared/schemas`` are the reference a test
compares them with). The simulator reads its sandbox cases from them, and the tests validate
every answer against their ``definitions``.
"""

from __future__ import annotations

import functools
import json
from importlib.resources import files
from typing import Any

ORDERS_MODEL = "amazon-sp-api-orders-v0.json"
TOKENS_MODEL = "amazon-sp-api-tokens-2021-03-01.json"


@functools.cache
def load(name: str) -> dict[str, Any]:
    model: dict[str, Any] = json.loads(
        files("mock_channels.amazon_sp").joinpath("models", name).read_text(encoding="utf-8")
    )
    return model


def operations(name: str) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """operationId -> (HTTP method, path template, the operation's model)."""
    found = {}
    for path, methods in load(name)["paths"].items():
        for method, operation in methods.items():
            if isinstance(operation, dict) and "operationId" in operation:
                found[operation["operationId"]] = (method.upper(), path, operation)
    return found
