"""An Orders tab left open in a real browser while an admin bulk-moves 2,000 orders (issue 23,
"calm tabs"): the tab makes at most 60 requests a minute and never gets a 429, and the admin's
own job-progress reads are never refused either (both behind one address, as in an office).

The browser side is ``frontend/e2e/calm-tab.spec.ts`` (Playwright, Debian's Chromium), which
counts the page's requests to ``/api`` for 60 s; this test places the orders, starts the move
once the tab is counting, and reads the counts.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from devstack.pytest_plugin import eventually_sync

from .test_bulk import a_window, place_orders, view_total, wait_for_job

pytestmark = pytest.mark.e2e

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"
ORDERS = 2_000
WINDOW_S = 60
MAX_REQUESTS_PER_MINUTE = 60
# The admin polls its job as the SPA does (JOB_POLL_MS).
JOB_POLL_S = 3


@pytest.mark.timeout(1500)
def test_an_open_orders_tab_stays_calm_during_a_bulk_move_of_2000_orders(
    gateway_url: str,
    mock_channels_url: str,
    credentials: dict[str, tuple[str, str]],
    admin_headers: dict[str, str],
    tmp_path: Path,
) -> None:
    if not (FRONTEND / "node_modules").exists() or not Path("/usr/bin/chromium").exists():
        pytest.fail("run through `make test`: it installs the SPA's packages and Chromium")
    window = a_window()
    view = {"from": window["from"], "to": window["to"]}
    started = time.monotonic()
    with httpx.Client(base_url=f"{gateway_url}/api", timeout=60) as api:
        for _ in range(ORDERS // 500):
            place_orders(mock_channels_url, "website", 500, window)
        eventually_sync(
            lambda: view_total(api, admin_headers, view) == ORDERS,
            what=f"{ORDERS} orders in the view",
            timeout_s=600,
        )
        seeded_s = time.monotonic() - started
        print(f"seeding {ORDERS} orders through the mock channel and ingest took {seeded_s:.0f}s")

        ready, result = tmp_path / "ready", tmp_path / "result.json"
        viewer = credentials["viewer"]
        browser = subprocess.Popen(
            [shutil.which("npx") or "npx", "playwright", "test", "e2e/calm-tab.spec.ts"],
            cwd=FRONTEND,
            env={
                **os.environ,
                "BASE_URL": gateway_url,
                "VIEWER_EMAIL": viewer[0],
                "VIEWER_PASSWORD": viewer[1],
                "CALM_TAB_READY": str(ready),
                "CALM_TAB_RESULT": str(result),
                "CALM_TAB_WINDOW_S": str(WINDOW_S),
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            eventually_sync(ready.exists, what="the tab to start counting", timeout_s=180)
            moved = api.post(
                "/bulk-moves", json={"status": "CONFIRMED", "view": view}, headers=admin_headers
            )
            assert moved.status_code == 202, moved.text
            job_id = moved.json()["job"]["id"]
            job_reads: Counter[int] = Counter()
            while browser.poll() is None:
                job_reads[api.get(f"/jobs/{job_id}", headers=admin_headers).status_code] += 1
                time.sleep(JOB_POLL_S)
            output, _ = browser.communicate(timeout=60)
        finally:
            if browser.poll() is None:
                browser.kill()
        assert browser.returncode == 0, output[-6000:]
        job = wait_for_job(api, admin_headers, job_id)

    counts = json.loads(result.read_text())
    per_path = Counter(line.split(" ", 1)[1] for line in counts["requests"])
    print(f"the tab's requests in {WINDOW_S}s: {len(counts['requests'])} {dict(per_path)}")
    aborted = len(counts["failed"])
    print(f"answers: {counts['statuses']}; aborted: {aborted}; header: {counts['header']}")
    print(
        f"the admin's job reads: {dict(job_reads)}; the job: {job['state']}, {job['total']} orders"
    )
    assert len(counts["requests"]) <= MAX_REQUESTS_PER_MINUTE * WINDOW_S / 60, per_path
    assert "429" not in counts["statuses"]
    assert counts["failed"] == []  # nothing aborted and reissued
    assert set(job_reads) == {200}
    assert (job["state"], job["total"]) == ("succeeded", ORDERS)
