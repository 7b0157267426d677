"""Each service starts from its own locked environment alone, as its image installs it.

The development environment holds every package of the workspace, so a service that imports a
library only another package declares works in every other test and crashes in its image. Here
each service gets what ``services/Dockerfile`` gives it, by the image's own install command read
from the Dockerfile (``uv sync --frozen --no-dev --no-editable --package X``), into a temporary
environment; that environment's Python then imports every module of the service and builds its
app with test settings. Building the app opens no connection (resources open in the lifespan),
so no store, broker or Docker is needed. ``make lint`` runs deptry for the same rule, statically.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[1]
DOCKERFILE = REPO / "services/Dockerfile"
# The workspace package (the image's SERVICE build argument) and its import name.
SERVICES = {
    "auth": "auth",
    "orders": "orders",
    "ingest": "ingest",
    "gateway": "gateway",
    "mock-channels": "mock_channels",
}

# Runs inside the service's own environment: imports every module of the service (the console
# scripts' too) and builds the app from the environment's settings, as ``run()`` does.
PROBE = """
import importlib, pkgutil, sys, typing
from fastapi import FastAPI
from orderhub_common.settings import load_settings

name = sys.argv[1]
package = importlib.import_module(name)
for module in pkgutil.walk_packages(package.__path__, f"{name}."):
    # Alembic's env.py and revisions run only inside Alembic's own context.
    if ".migrations" not in module.name:
        importlib.import_module(module.name)
main = importlib.import_module(f"{name}.main")
settings_class = typing.get_type_hints(main.create_app)["settings"]
app = main.create_app(load_settings(settings_class))
assert isinstance(app, FastAPI), type(app)
print("built", app.title)
"""


def uv() -> str:
    """The uv the Makefile uses: on PATH, or the one ``make tools`` installs."""
    found = shutil.which("uv") or REPO / ".cache/uv/bin/uv"
    if not Path(found).exists():
        pytest.fail("uv is missing: run `make python-deps`")
    return str(found)


def image_install_command(service: str) -> list[str]:
    """The Dockerfile's ``RUN uv sync ...`` line with SERVICE filled in."""
    lines = [line for line in DOCKERFILE.read_text().splitlines() if "RUN uv sync" in line]
    assert len(lines) == 1, f"expected one `RUN uv sync` in {DOCKERFILE}, found {lines}"
    command = shlex.split(lines[0].removeprefix("RUN "))
    return [part.replace("${SERVICE}", service) for part in command]


def uv_environment(project_environment: Path) -> dict[str, str]:
    # uv keeps the caller's cache and certificates, never the development virtualenv.
    kept = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}}
    return {
        **kept,
        "UV_PROJECT_ENVIRONMENT": str(project_environment),
        "UV_PYTHON_DOWNLOADS": "never",
    }


def service_environment(**values: str) -> dict[str, str]:
    # Only what the test sets: no service variable of the developer's shell leaks in.
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **values}


@pytest.mark.parametrize("service", SERVICES)
def test_service_starts_from_its_own_locked_environment(service: str, tmp_path: Path) -> None:
    environment = tmp_path / "venv"
    install = image_install_command(service)
    assert install[:2] == ["uv", "sync"], install
    assert "--frozen" in install, install
    # --frozen keeps uv.lock as it is; the temporary environment leaves the repository's .venv
    # alone; --offline takes every package from the cache `make python-deps` filled. uv caches a
    # built workspace package by its pyproject.toml only, so the workspace packages are rebuilt
    # from the source as it is now (an image build always is).
    synced = subprocess.run(
        [
            uv(),
            *install[1:],
            "--quiet",
            "--offline",
            "--python",
            sys.executable,
            "--reinstall-package",
            service,
            "--reinstall-package",
            "orderhub-common",
        ],
        cwd=REPO,
        env=uv_environment(environment),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert synced.returncode == 0, synced.stderr

    started = subprocess.run(
        [str(environment / "bin/python"), "-c", PROBE, SERVICES[service]],
        cwd=tmp_path,
        env=service_environment(
            HOME=str(tmp_path),
            ORDERHUB_ENV="test",
            # The auth service's development signing key and the mock channels' database stay
            # inside this test's folder (neither is touched before the lifespan, regardless).
            JWT_PRIVATE_KEYS_FILE=str(tmp_path / "jwt.json"),
            MOCK_CHANNELS_DATABASE=str(tmp_path / "channels.sqlite3"),
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode == 0, started.stderr[-3000:]
    assert "built" in started.stdout
