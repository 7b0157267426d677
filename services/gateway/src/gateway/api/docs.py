"""``GET /openapi.json`` (the whole API, combined) and ``GET /docs`` (Swagger UI on it)."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from gateway.deps import EdgeDep

router = APIRouter(include_in_schema=False)

# Swagger UI's bundle ships with the SPA build (frontend/vite.config.ts copies it), so the docs
# need no CDN.
_SWAGGER_ASSETS = "/swagger"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


@router.get("/openapi.json")
async def openapi_document(edge: EdgeDep) -> dict[str, Any]:
    return await edge.openapi.document()


def _docs_page() -> tuple[str, str]:
    """Swagger UI's page and a CSP that admits our copy of its bundle and its one inline script."""
    html = get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="Order Hub API",
        swagger_js_url=f"{_SWAGGER_ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{_SWAGGER_ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{_SWAGGER_ASSETS}/favicon-32x32.png",
    ).body
    page = bytes(html).decode()
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(page)
    )
    csp = "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' {hashes}",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
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
