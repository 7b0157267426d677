"""Amazon's static sandbox, simulated under ``/amazon/sandbox``: every operation of the Orders
API v0 and Tokens API models at its path, answering its static cases exactly
(``amazon_sp.sandbox``). Like Amazon's sandbox it needs a Login with Amazon access token, and,
unlike the simulated live API, it holds no orders and applies no usage plans or faults.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from mock_channels.amazon_sp.sandbox import SandboxOperation, sandbox_operations
from mock_channels.amazon_sp.sign_in import TokenRefusedError
from mock_channels.api.amazon import get_amazon
from orderhub_common.amazon_sp_api import ACCESS_TOKEN_HEADER

PREFIX = "/amazon/sandbox"
router = APIRouter(prefix=PREFIX, tags=["amazon selling partner api sandbox"])


async def _given(request: Request, operation: SandboxOperation) -> dict[str, Any]:
    given: dict[str, Any] = dict(request.path_params)
    for name in request.query_params:
        values = request.query_params.getlist(name)
        if name in operation.array_parameters:
            given[name] = [part for value in values for part in value.split(",") if part]
        else:
            given[name] = values[0]
    raw = await request.body()
    if raw:
        try:
            given["body"] = json.loads(raw)
        except ValueError:
            given["body"] = raw.decode(errors="replace")
    return given


def _endpoint(operation: SandboxOperation) -> Callable[[Request], Awaitable[Response]]:
    async def serve(request: Request) -> Response:
        try:
            (await get_amazon(request)).sign_in.grant(request.headers.get(ACCESS_TOKEN_HEADER))
        except TokenRefusedError as problem:
            error = {"code": "Unauthorized", "message": "Access to requested resource is denied."}
            if str(problem):
                error["details"] = str(problem)
            return JSONResponse({"errors": [error]}, status_code=403)
        status, answer = operation.answer(await _given(request, operation))
        if status == 204:  # the model writes {} for it; HTTP allows a 204 no body
            return Response(status_code=status)
        return JSONResponse(answer, status_code=status)

    return serve


for _operation in sandbox_operations():
    router.add_api_route(
        _operation.path,
        _endpoint(_operation),
        methods=[_operation.method],
        summary=f"{_operation.operation_id} (static sandbox)",
        name=f"sandbox_{_operation.operation_id}",
    )
