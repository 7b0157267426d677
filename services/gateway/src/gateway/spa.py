"""The built SPA at ``/``: its files, and ``index.html`` for every client-side route.

Vite names bundles by content hash under ``assets/``, so those are cached for a year; everything
else (``index.html`` above all) is revalidated, so a deploy is picked up on the next load.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse

from orderhub_common.errors import NotFoundError, error_response

router = APIRouter(include_in_schema=False)

_IMMUTABLE = "public, max-age=31536000, immutable"
_REVALIDATE = "no-cache"


@router.get("/{path:path}")
async def spa(path: str, request: Request) -> Response:
    if path == "api" or path.startswith("api/"):
        raise NotFoundError(f"no API route for GET /{path}")
    if "\x00" in path:
        raise NotFoundError("no such page")
    dist: Path = request.app.state.settings.frontend_dist
    index = dist / "index.html"
    if not index.is_file():
        return error_response(
            503,
            "spa_not_built",
            f"the web app is not built ({dist} has no index.html): run `make up`, "
            "or `npm run build` in frontend/; the API is served under /api",
        )
    file = _file_in(dist, path)
    if file is not None:
        cache = _IMMUTABLE if path.startswith("assets/") else _REVALIDATE
        return FileResponse(file, headers={"Cache-Control": cache})
    if _looks_like_a_file(path):
        raise NotFoundError(f"no file /{path}")
    return FileResponse(index, headers={"Cache-Control": _REVALIDATE})


def _file_in(dist: Path, path: str) -> Path | None:
    """The file ``path`` names inside ``dist``, never outside it."""
    if not path:
        return None
    candidate = (dist / path).resolve()
    if not candidate.is_relative_to(dist.resolve()) or not candidate.is_file():
        return None
    return candidate


def _looks_like_a_file(path: str) -> bool:
    # Client routes are words (/orders/abc); a missing /favicon.png is a 404, not the app.
    last = path.rsplit("/", 1)[-1]
    return "." in last or path.startswith("assets/")
