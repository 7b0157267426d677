"""``/healthz`` (the process is alive) and ``/readyz`` (this pod can serve its traffic now).

Readiness is 503 only when a required dependency does not answer. A dependency the service
declares degradable (``Resource.degrades_to``) does not make it unready: every replica shares
it, so an orchestrator pulling pods on its outage would turn a documented degraded mode into a
total one. Its outage shows in the body (``degraded``), in ``orderhub_dependency_up`` (0) and in
the log instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from loguru import logger
from prometheus_client import Gauge

from orderhub_common.errors import error_body
from orderhub_common.resources import Resource

dependency_up = Gauge(
    "orderhub_dependency_up",
    "Whether a dependency answered the service's last readiness probe (1) or not (0)",
    ["dependency"],
)


async def probe(resources: Sequence[Resource], timeout_s: float = 2.0) -> dict[str, str]:
    async def one(resource: Resource) -> str:
        try:
            await asyncio.wait_for(resource.ping(), timeout_s)
        except Exception as exc:
            # The reason goes to the log only: its text may name hosts, users or queries.
            logger.warning(f"readiness: {resource.name} is not answering: {exc!r}"[:500])
            dependency_up.labels(resource.name).set(0)
            if resource.degraded_mode is not None:
                return f"degraded: {resource.name} not answering"
            return f"down: {type(exc).__name__}"
        dependency_up.labels(resource.name).set(1)
        return "ok"

    results = await asyncio.gather(*(one(r) for r in resources))
    return {r.name: result for r, result in zip(resources, results, strict=True)}


def health_router(resources: Sequence[Resource]) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    modes = {r.name: r.degraded_mode for r in resources if r.degraded_mode is not None}

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz() -> JSONResponse:
        checks = await probe(resources)
        degraded = {
            name: modes[name] for name, result in checks.items() if result.startswith("degraded")
        }
        failing = [name for name, result in checks.items() if result.startswith("down")]
        if not failing:
            status = "degraded" if degraded else "ready"
            return JSONResponse({"status": status, "checks": checks, "degraded": degraded})
        body = error_body(
            "dependency_unavailable", f"not ready: {', '.join(failing)} not answering"
        )
        body.update(
            {"status": "unavailable", "failing": failing, "checks": checks, "degraded": degraded}
        )
        return JSONResponse(body, status_code=503)

    return router
