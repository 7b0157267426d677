"""The store's disk fills up: writes fail cleanly with a clear error, nothing is half-written,
and everything resumes once space is freed.

The store's data directory is moved onto a small tmpfs mounted for the test (which needs the
right to mount: root, or CAP_SYS_ADMIN; the test is skipped where the machine refuses it).
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from devstack.pytest_plugin import eventually_sync
from devstack.stack import Stack

pytestmark = pytest.mark.faults

HEADROOM_BYTES = 48 * 1024 * 1024
CHANNELS = ("website", "amazon", "blinkit")


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _mount_tmpfs(path: Path, size_bytes: int) -> bool:
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_bytes}", "tmpfs", str(path)],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


def _copy_contents(source: Path, target: Path) -> None:
    for entry in source.iterdir():
        shutil.copy2(entry, target / entry.name)


@pytest.fixture
def small_store_disk(stack: Stack) -> Iterator[Path]:
    """The store's data directory on a filesystem with little room left; restored after."""
    data = stack.profile.data_dir / "mongodb"
    with tempfile.TemporaryDirectory(prefix="orderhub-store-") as scratch:
        saved = Path(scratch)
        stack.stop("mongodb")
        try:
            _copy_contents(data, saved)
            if not _mount_tmpfs(data, _size(data) + HEADROOM_BYTES):
                pytest.skip("this machine does not let the test mount a small filesystem")
            try:
                _copy_contents(saved, data)
                stack.start("mongodb")
                yield data
                stack.stop("mongodb")
                for entry in saved.iterdir():
                    entry.unlink()
                _copy_contents(data, saved)
            finally:
                with contextlib.suppress(Exception):
                    stack.stop("mongodb")
                subprocess.run(["umount", str(data)], check=True)
            for entry in data.iterdir():
                entry.unlink()
            _copy_contents(saved, data)
        finally:
            stack.start("mongodb")


def fill_up(directory: Path) -> Path:
    filler = directory / "filler"
    chunk = b"\0" * (1024 * 1024)
    with filler.open("wb") as out:
        try:
            while True:
                out.write(chunk)
                out.flush()
        except OSError:
            pass
    return filler


def test_a_full_store_disk_fails_writes_cleanly_and_everything_resumes_once_freed(
    pipeline: Any,
    stack: Stack,
    urls: dict[str, str],
    admin_headers: dict[str, str],
    small_store_disk: Path,
) -> None:
    gateway = urls["gateway"]
    for channel in CHANNELS:
        pipeline.place(channel, 10)
    pipeline.settled()
    listed = httpx.get(
        f"{gateway}/api/orders",
        params={"status": "PLACED", "limit": 1},
        headers={**admin_headers, "Cache-Control": "no-cache"},
        timeout=10,
    )
    order_id = listed.json()["orders"][0]["id"]

    filler = fill_up(small_store_disk)
    for channel in CHANNELS:
        pipeline.place(channel, 20)
    moved = httpx.patch(
        f"{gateway}/api/orders/{order_id}/status",
        json={"status": "CONFIRMED"},
        headers=admin_headers,
        timeout=10,
    )
    print(f"a status move on a full disk: {moved.status_code} {moved.text}")
    assert moved.status_code == 503, moved.text
    assert moved.json()["error"]["code"] == "service_unavailable"
    shown = httpx.get(f"{gateway}/api/orders/{order_id}", headers=admin_headers, timeout=10)
    assert shown.status_code == 200, "reads keep working on a full disk"
    assert shown.json()["order"]["status"] == "PLACED", "a failed move is not half-written"
    assert [h["status"] for h in shown.json()["order"]["statusHistory"]] == ["PLACED"]

    filler.unlink()
    pipeline.settled()
    eventually_sync(
        lambda: (
            httpx.patch(
                f"{gateway}/api/orders/{order_id}/status",
                json={"status": "CONFIRMED"},
                headers=admin_headers,
                timeout=10,
            ).status_code
            == 200
        ),
        timeout_s=30,
        what="status moves to work again",
    )
