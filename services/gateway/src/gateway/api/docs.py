"""``GET /openapi.json`` (the whole API, combined) and ``GET /docs`` (Swagger UI on it)."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from gateway.deps import EdgeState

router = APIRouter(include_in_schema=False)

_SWAGGER_CDN = "https://cdn.jsdelivr.net"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


@router.get("/openapi.json")
async def openapi_document(edge: EdgeState) -> dict[str, Any]:
    return await edge.openapi.document()


def _docs_page() -> tuple[str, str]:
    """Swagger UI's page and a CSP that admits its CDN bundle and exactly its one inline script."""
    html = get_swagger_ui_html(openapi_url="/openapi.json", title="Order Hub API").body
    page = bytes(html).decode()
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(page)
    )
    csp = "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' {_SWAGGER_CDN} {hashes}",
            f"style-src 'self' {_SWAGGER_CDN} 'unsafe-inline'",
            "img-src 'self' data: https:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "frame-ancestors 'none'",
        ]
    )
    return page, csp


_DOCS_PAGE, _DOCS_CSP = _docs_page()


@router.get("/docs")
async def swagger_ui() -> HTMLResponse:
    return HTMLResponse(_DOCS_PAGE, headers={"Content-Security-Policy": _DOCS_CSP})
