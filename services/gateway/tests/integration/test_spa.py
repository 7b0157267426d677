"""The built SPA served from FRONTEND_DIST, with client-side routes falling back to index.html."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from fastapi import FastAPI

from gateway import spa
from orderhub_common.errors import install_error_handlers

pytestmark = pytest.mark.integration


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<html>order hub</html>")
    (dist / "assets" / "index-3f2a1b.js").write_text("console.log('app')")
    (dist / "favicon.svg").write_text("<svg/>")
    (tmp_path / "secret.txt").write_text("outside the dist folder")
    app = FastAPI()
    app.state.settings = SimpleNamespace(frontend_dist=dist)
    install_error_handlers(app)
    app.include_router(spa.router)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url="http://gateway"
    ) as client:
        yield client


async def test_client_routes_get_the_app_and_revalidate_it(client: httpx.AsyncClient) -> None:
    for path in ("/", "/orders", "/orders/6650c0ffee/history"):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert response.text == "<html>order hub</html>"
        assert response.headers["Cache-Control"] == "no-cache"


async def test_hashed_assets_are_cached_for_a_year_other_files_revalidated(
    client: httpx.AsyncClient,
) -> None:
    asset = await client.get("/assets/index-3f2a1b.js")
    icon = await client.get("/favicon.svg")

    assert asset.text == "console.log('app')"
    assert asset.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert icon.headers["Cache-Control"] == "no-cache"


async def test_missing_files_and_api_paths_are_404_not_the_app(client: httpx.AsyncClient) -> None:
    for path in ("/assets/gone-1234.js", "/logo.png", "/api", "/api/anything"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"


async def test_nothing_outside_the_dist_folder_is_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/%2E%2E/secret.txt")

    assert response.status_code == 404
    assert "outside the dist folder" not in response.text
