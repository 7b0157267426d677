from __future__ import annotations

from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration


async def test_both_bootstrap_users_sign_in(sign_in: Any, admin: Any, viewer: Any) -> None:
    admin_session = await sign_in(admin)
    viewer_session = await sign_in(viewer)

    assert set(admin_session) == {"accessToken", "refreshToken", "tokenType", "expiresIn", "user"}
    assert admin_session["tokenType"] == "Bearer"
    assert admin_session["expiresIn"] == 900
    assert admin_session["user"]["email"] == admin.email
    assert admin_session["user"]["role"] == "admin"
    assert set(admin_session["user"]) == {"id", "email", "role"}
    assert viewer_session["user"]["role"] == "viewer"
