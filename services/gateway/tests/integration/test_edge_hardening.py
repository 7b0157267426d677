"""Edge answers the review found wanting (finding 6): API JSON is never stored, the CSP allows
no inline styles, and a NUL byte in an SPA path is a 404."""

from __future__ import annotations

import pytest

from .conftest import RunningGateway

pytestmark = pytest.mark.integration


async def test_api_answers_are_never_stored_by_browsers_or_proxies(
    gateway: RunningGateway,
) -> None:
    async with gateway.client() as client:
        answers = [
            await client.get("/api/orders", headers=gateway.bearer("viewer")),
            await client.get("/api/orders"),  # an error too
            await client.post("/api/auth/login", json={"email": "a@b.c", "password": "x"}),
        ]

    for answer in answers:
        assert answer.headers["Cache-Control"] == "no-store", answer.url


async def test_the_content_security_policy_allows_no_inline_styles_or_scripts(
    gateway: RunningGateway,
) -> None:
    async with gateway.client() as client:
        policy = (await client.get("/")).headers["Content-Security-Policy"]

    assert "'unsafe-inline'" not in policy
    assert "style-src 'self'" in policy


@pytest.mark.parametrize("path", ["/orders%00", "/%00", "/assets/x%00.js"])
async def test_a_nul_byte_in_an_spa_path_is_404(gateway: RunningGateway, path: str) -> None:
    async with gateway.client() as client:
        response = await client.get(path)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
