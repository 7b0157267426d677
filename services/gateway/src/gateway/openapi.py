"""One OpenAPI document for the whole API, as callers see it through the gateway.

The gateway's own routes are joined by the documents auth, orders and ingest publish at their
``/openapi.json``: each service path is rewritten to its ``/api`` path through the same route
table the proxy uses (so only what is really routed is documented), components that would collide
are renamed per service, and every operation documents the answers the edge itself can give (401,
403, 429, 503). A service that does not answer is left out, with a warning, until it does.

``gateway-openapi`` (``openapi_cli.py``) prints the document from the running services (the SPA
generates its TypeScript types from it).
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote

from loguru import logger

from gateway.routes import Access, RouteMatch, Upstream, resolve
from gateway.upstreams import UpstreamClient

Document = dict[str, Any]

_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
BEARER_SCHEME = "HTTPBearer"
_BEARER = {
    "type": "http",
    "scheme": "bearer",
    "description": "The access token from POST /api/auth/login",
}
_ERROR_REF = {"$ref": "#/components/schemas/ApiError"}
_EDGE_ERRORS = {
    "401": "Not signed in, or the access token is not valid",
    "403": "Signed in without the role this needs",
    "429": "Rate limited: retry after the Retry-After header's seconds",
    "503": "The service behind this route is unavailable",
}
_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")


def merge_documents(own: Document, parts: Mapping[Upstream, Document]) -> Document:
    """The gateway's document extended with every service's routed paths (a new document)."""
    merged = copy.deepcopy(own)
    merged.setdefault("paths", {})
    components = merged.setdefault("components", {})
    components.setdefault("securitySchemes", {})[BEARER_SCHEME] = _BEARER
    operation_ids = _operation_ids(merged)
    tags = {tag["name"]: tag for tag in merged.get("tags", [])}
    for upstream, part in sorted(parts.items()):
        part = _renamed_collisions(copy.deepcopy(part), components, upstream)
        for section, entries in part.get("components", {}).items():
            components.setdefault(section, {}).update(entries)
        for tag in part.get("tags", []):
            tags.setdefault(tag["name"], tag)
        for path, item in part.get("paths", {}).items():
            for method, operation, route in _routed_operations(upstream, path, item):
                _document_edge_answers(operation, route)
                _unique_operation_id(operation, upstream, operation_ids)
                merged["paths"].setdefault(f"/api{path}", {})[method] = operation
    if tags:
        merged["tags"] = list(tags.values())
    for item in merged["paths"].values():
        for method, operation in item.items():
            if method in _HTTP_METHODS:
                _document_error_bodies(operation)
    _drop_unreferenced(merged, _VALIDATION_SCHEMAS)
    return merged


def _routed_operations(
    upstream: Upstream, path: str, item: Mapping[str, Any]
) -> list[tuple[str, Document, RouteMatch]]:
    """The operations of one service path that the gateway really routes to that path."""
    routed = []
    for method in _HTTP_METHODS:
        if method not in item:
            continue
        route = resolve(method, path)
        if route is not None and route.upstream is upstream and unquote(route.path) == path:
            operation = dict(item[method])
            if "parameters" in item:  # path-level parameters apply to every operation
                operation["parameters"] = [*item["parameters"], *operation.get("parameters", [])]
            routed.append((method, operation, route))
    return routed


def _document_edge_answers(operation: Document, route: RouteMatch) -> None:
    responses = operation.setdefault("responses", {})
    codes = ["429", "503"]
    if route.access is not Access.PUBLIC:
        operation["security"] = [{BEARER_SCHEME: []}]
        codes.append("401")
    if route.access is Access.ADMIN:
        codes.append("403")
    for code in codes:
        responses.setdefault(code, _error_response(_EDGE_ERRORS[code]))


def _document_error_bodies(operation: Document) -> None:
    """Every error answer has the contract's body, whoever produced it."""
    for code, response in operation.get("responses", {}).items():
        if not code.isdigit() or int(code) < 400:
            continue
        # FastAPI documents its own validation body; every service answers in the contract's.
        if "content" not in response or _refers_to(response, _VALIDATION_SCHEMAS[0]):
            description = response.get("description") or _EDGE_ERRORS.get(code, "Error")
            if code == "422" and description == "Validation Error":
                description = "Invalid request: the fields at fault are named in details"
            operation["responses"][code] = _error_response(description)


def _error_response(description: str) -> Document:
    return {"description": description, "content": {"application/json": {"schema": _ERROR_REF}}}


def _refers_to(node: Any, schema: str) -> bool:
    return f'"#/components/schemas/{schema}"' in json.dumps(node)


def _drop_unreferenced(document: Document, names: tuple[str, ...]) -> None:
    schemas = document.get("components", {}).get("schemas", {})
    for name in names:  # in order: HTTPValidationError is what refers to ValidationError
        others = {key: value for key, value in schemas.items() if key != name}
        if not _refers_to([document.get("paths", {}), others], name):
            schemas.pop(name, None)


def _operation_ids(document: Document) -> set[str]:
    return {
        operation["operationId"]
        for item in document.get("paths", {}).values()
        for method, operation in item.items()
        if method in _HTTP_METHODS and "operationId" in operation
    }


def _unique_operation_id(operation: Document, upstream: Upstream, taken: set[str]) -> None:
    operation_id = operation.get("operationId")
    if operation_id is None:
        return
    if operation_id in taken:
        operation_id = f"{upstream}_{operation_id}"
        operation["operationId"] = operation_id
    taken.add(operation_id)


def _renamed_collisions(part: Document, merged: Document, upstream: Upstream) -> Document:
    """Renames the part's components that differ from a same-named one already merged."""
    refs: dict[str, str] = {}
    for section, entries in part.get("components", {}).items():
        existing = merged.get(section, {})
        for name, value in list(entries.items()):
            if name in existing and existing[name] != value:
                renamed = f"{upstream.title()}{name}"
                entries[renamed] = entries.pop(name)
                refs[f"#/components/{section}/{name}"] = f"#/components/{section}/{renamed}"
    return _rewrite_refs(part, refs) if refs else part


def _rewrite_refs(node: Any, refs: Mapping[str, str]) -> Any:
    if isinstance(node, dict):
        return {
            key: refs.get(value, value) if key == "$ref" else _rewrite_refs(value, refs)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rewrite_refs(value, refs) for value in node]
    return node


class CombinedOpenApi:
    """The merged document, rebuilt at most every ``ttl_s`` seconds."""

    def __init__(
        self,
        own: Callable[[], Document],
        upstreams: Mapping[Upstream, UpstreamClient],
        *,
        ttl_s: float,
        fetch_timeout_s: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._own = own
        self._upstreams = upstreams
        self._ttl_s = ttl_s
        self._fetch_timeout_s = fetch_timeout_s
        self._clock = clock
        self._cached: tuple[float, Document] | None = None
        self._lock = asyncio.Lock()

    async def document(self) -> Document:
        async with self._lock:
            if self._cached is not None and self._clock() - self._cached[0] < self._ttl_s:
                return self._cached[1]
            parts = await self._fetch_parts()
            document = merge_documents(self._own(), parts)
            # A document missing a service is not kept: the next request asks again.
            if len(parts) == len(self._upstreams):
                self._cached = (self._clock(), document)
            return document

    async def _fetch_parts(self) -> dict[Upstream, Document]:
        upstreams = list(self._upstreams)
        fetched = await asyncio.gather(*(self._fetch(u) for u in upstreams))
        return {u: doc for u, doc in zip(upstreams, fetched, strict=True) if doc is not None}

    async def _fetch(self, upstream: Upstream) -> Document | None:
        try:
            response = await self._upstreams[upstream].request(
                "GET", "/openapi.json", timeout_s=self._fetch_timeout_s
            )
            response.raise_for_status()
            document = response.json()
            if not isinstance(document, dict):
                raise ValueError("not a JSON object")
        except Exception as exc:
            logger.warning(f"the OpenAPI document leaves out {upstream}: {exc}")
            return None
        return document
