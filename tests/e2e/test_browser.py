"""The admin SPA in headless Chromium (Playwright, frontend/e2e), against the test stack.

pytest owns the stack's lifecycle, so the browser suite runs inside it as one e2e test; its own
report and the screenshots land in frontend/test-artifacts/.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"


# The whole browser suite is one test: it gets the subprocess's limit, not the per-test one.
@pytest.mark.timeout(1560)
def test_the_admin_spa_works_in_a_real_browser(
    gateway_url: str, mock_channels_url: str, credentials: dict[str, tuple[str, str]]
) -> None:
    if not (FRONTEND / "node_modules").exists() or not Path("/usr/bin/chromium").exists():
        pytest.fail("run through `make test`: it installs the SPA's packages and Chromium")
    admin, viewer = credentials["admin"], credentials["viewer"]
    result = subprocess.run(
        [shutil.which("npm") or "npm", "run", "--silent", "e2e"],
        cwd=FRONTEND,
        env={
            **os.environ,
            "BASE_URL": gateway_url,
            "MOCK_CHANNELS_URL": mock_channels_url,
            "ADMIN_EMAIL": admin[0],
            "ADMIN_PASSWORD": admin[1],
            "VIEWER_EMAIL": viewer[0],
            "VIEWER_PASSWORD": viewer[1],
        },
        capture_output=True,
        text=True,
        timeout=1500,  # the whole browser suite, on a machine that may be busy
        check=False,
    )
    assert result.returncode == 0, f"{result.stdout[-6000:]}\n{result.stderr[-3000:]}"
