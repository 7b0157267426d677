"""``python -m bench.export_memory``: the orders service's memory while it exports 100,000
orders to CSV, for docs/BENCHMARKS.md.

An export reads only the query side, so the orders are projected straight into it (synthetic
orders placed in a window of 1990 that nothing else uses, written with the service's own
``QuerySide.project``). The export is then asked for through the gateway like the SPA does, the
orders process's resident memory (VmRSS in /proc) is sampled every 20 ms from before the
request until the job has finished, and the file is downloaded by its signed link and counted.
The same is done for a tenth as many orders, so the report shows whether memory grows with
the size of the export. At the end the synthetic rows are deleted again.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx

WINDOW_START = datetime(1990, 1, 1, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "BENCHMARKS.md"
SECTION = REPO / "docs" / "bench" / "export-memory.md"
SECTION_HEADING = "## CSV export: memory"
HOW_MEASURED = (
    "`python -m bench.export_memory` on the test stack: synthetic orders are written into the "
    "query side (an export reads nothing else), an export of each size is asked for through "
    "the gateway as the SPA does, the orders process's VmRSS (/proc) is sampled every 20 ms "
    "from before the request until the job has finished, and the file is then downloaded by "
    "its signed link (the gateway's VmRSS sampled meanwhile) and its rows counted. The export "
    "walks the view by keyset in chunks of 1,000 rows and stores each chunk's CSV, so the "
    "service holds one chunk at a time; the gateway passes the file through as it arrives."
)

# Synthetic rows shaped as the projection writes them (the order as the API serves it in
# ``document``), one placed every second from WINDOW_START; made inside PostgreSQL, since
# projecting 100,000 orders one by one through the service's code would take half an hour here.
_SEED = """
INSERT INTO order_rows (id, revision, channel, external_id, status, total, currency, placed_at,
                        updated_at, search_text, document, projected_at)
SELECT id, 1, channel, external_id, status, total, 'INR', placed_at, placed_at, lower(id),
       jsonb_build_object(
         'id', id, 'externalId', external_id, 'channel', channel,
         'customer', jsonb_build_object('name', 'Customer ' || n,
                                        'phone', '+91 98' || lpad(n::text, 8, '0'),
                                        'email', 'c' || n || '@example.com'),
         'items', jsonb_build_array(
           jsonb_build_object('sku', 'SKU-' || n % 500, 'name', 'Gold ring, 18k',
                              'qty', 1 + n % 3, 'price', 1999.0),
           jsonb_build_object('sku', 'SKU-' || n % 77, 'name', 'Silver chain',
                              'qty', 1, 'price', 799.5)),
         'total', total, 'currency', 'INR', 'status', status,
         'statusHistory', jsonb_build_array(jsonb_build_object(
           'status', status, 'changedAt', placed_at, 'changedBy', null,
           'source', 'channel', 'note', null)),
         'placedAt', placed_at, 'createdAt', placed_at, 'updatedAt', placed_at),
       now()
FROM (
  SELECT n,
         'ord_bench' || lpad(n::text, 9, '0') AS id,
         'BENCH-' || lpad(n::text, 9, '0') AS external_id,
         (ARRAY['website', 'amazon', 'blinkit'])[1 + n % 3] AS channel,
         (ARRAY['PLACED', 'CONFIRMED', 'SHIPPED', 'DELIVERED', 'CANCELLED'])[1 + n % 5] AS status,
         1999.0 * (1 + n % 3) + 799.5 AS total,
         $1::timestamptz + n * interval '1 second' AS placed_at
  FROM generate_series(0, $2 - 1) AS n
) AS synthetic
ON CONFLICT (id) DO NOTHING
"""


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


async def seed(postgres_url: str, count: int) -> None:
    connection = await asyncpg.connect(postgres_url)
    try:
        await connection.execute(_SEED, WINDOW_START, count)
    finally:
        await connection.close()


async def unseed(postgres_url: str) -> None:
    connection = await asyncpg.connect(postgres_url)
    try:
        await connection.execute("DELETE FROM order_rows WHERE id LIKE 'ord_bench%'")
    finally:
        await connection.close()


class Sampler:
    def __init__(self, pid: int, interval_s: float = 0.02) -> None:
        self.pid = pid
        self.interval_s = interval_s
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(rss_kib(self.pid))
            time.sleep(self.interval_s)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def measure(gateway: str, token: str, pid: int, gateway_pid: int, count: int) -> dict[str, float]:
    headers = {"Authorization": f"Bearer {token}"}
    view = {
        "from": WINDOW_START.isoformat(),
        "to": (WINDOW_START + timedelta(seconds=count - 1)).isoformat(),
    }
    baseline = statistics.median(rss_kib(pid) for _ in range(20))
    with httpx.Client(base_url=gateway, timeout=60) as client, Sampler(pid) as sampler:
        started = time.monotonic()
        job = client.post("/api/exports", json={"view": view}, headers=headers).json()["job"]
        while job["state"] in {"queued", "running"}:
            time.sleep(0.2)
            job = client.get(f"/api/jobs/{job['id']}", headers=headers).json()["job"]
        took = time.monotonic() - started
    if job["state"] != "succeeded" or job["processed"] != count:
        raise SystemExit(f"export did not finish right: {job}")
    size = rows = 0
    gateway_before = rss_kib(gateway_pid)
    with (
        Sampler(gateway_pid) as gateway_sampler,
        httpx.stream("GET", gateway + job["downloadUrl"], timeout=120) as response,
    ):
        response.raise_for_status()
        for chunk in response.iter_bytes():
            size += len(chunk)
            rows += chunk.count(b"\n")
    return {
        "orders": count,
        "seconds": took,
        "baseline_mib": baseline / 1024,
        "peak_mib": max(sampler.samples) / 1024,
        "growth_mib": (max(sampler.samples) - baseline) / 1024,
        "file_mib": size / 1024 / 1024,
        "gateway_growth_mib": (max(gateway_sampler.samples) - gateway_before) / 1024,
        "rows": rows - 1,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gateway", required=True)
    parser.add_argument("--postgres-url", required=True)
    parser.add_argument("--orders-pid", type=int, required=True)
    parser.add_argument("--gateway-pid", type=int, required=True)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument(
        "--email", default=os.environ.get("BOOTSTRAP_ADMIN_EMAIL", "admin@orderhub.local")
    )
    parser.add_argument(
        "--password", default=os.environ.get("BOOTSTRAP_ADMIN_PASSWORD", "dev-only-admin-password")
    )
    args = parser.parse_args()
    print(f"writing {args.count} synthetic orders into the query side ...", flush=True)
    asyncio.run(seed(args.postgres_url, args.count))
    login = httpx.post(
        f"{args.gateway}/api/auth/login",
        json={"email": args.email, "password": args.password},
        timeout=30,
    )
    login.raise_for_status()
    token = login.json()["accessToken"]
    try:
        results = [
            measure(args.gateway, token, args.orders_pid, args.gateway_pid, n)
            for n in (args.count // 10, args.count)
        ]
    finally:
        asyncio.run(unseed(args.postgres_url))
    lines = [
        "| orders exported | export job | orders RSS before | peak during | growth "
        "| CSV size | gateway RSS growth while downloading |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        if r["rows"] != r["orders"]:
            raise SystemExit(f"the file has {r['rows']} rows for {r['orders']} orders")
        lines.append(
            f"| {r['orders']:,.0f} | {r['seconds']:.1f} s | {r['baseline_mib']:.1f} MiB "
            f"| {r['peak_mib']:.1f} MiB | {r['growth_mib']:+.1f} MiB | {r['file_mib']:.1f} MiB "
            f"| {r['gateway_growth_mib']:+.1f} MiB |"
        )
    table = "\n".join(lines)
    print(table)
    SECTION.parent.mkdir(parents=True, exist_ok=True)
    SECTION.write_text(f"{SECTION_HEADING}\n\n{HOW_MEASURED}\n\n{table}\n")
    DOC.write_text(with_export_memory(DOC.read_text()))
    print(f"wrote {SECTION} and its section of {DOC}")


def with_export_memory(page: str) -> str:
    """``page`` with the latest export-memory section at its end (``make bench`` rewrites the
    rest of the page; this section comes from its own run)."""
    kept = page.split(f"\n{SECTION_HEADING}\n")[0].rstrip("\n") + "\n"
    return kept + "\n" + SECTION.read_text() if SECTION.exists() else kept


if __name__ == "__main__":
    main()
