"""``/healthz`` (the process is alive) and ``/readyz`` (every dependency answers now)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from loguru import logger

from orderhub_common.errors import error_body
from orderhub_common.resources import Resource


async def probe(resources: Sequence[Resource], timeout_s: float = 2.0) -> dict[str, str]:
    async def one(resource: Resource) -> str:
        try:
            await asyncio.wait_for(resource.ping(), timeout_s)
        except Exception as exc:
            # The reason goes to the log only: its text may name hosts, users or queries.
            logger.warning(f"readiness: {resource.name} is not answering: {exc!r}"[:500])
            return f"down: {type(exc).__name__}"
        return "ok"

    results = await asyncio.gather(*(one(r) for r in resources))
    return {r.name: result for r, result in zip(resources, results, strict=True)}


def health_router(resources: Sequence[Resource]) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz() -> JSONResponse:
        checks = await probe(resources)
        failing = [name for name, result in checks.items() if result != "ok"]
        if not failing:
            return JSONResponse({"status": "ready", "checks": checks})
        body = error_body(
            "dependency_unavailable", f"not ready: {', '.join(failing)} not answering"
        )
        body.update({"status": "unavailable", "failing": failing, "checks": checks})
        return JSONResponse(body, status_code=503)

    return router
