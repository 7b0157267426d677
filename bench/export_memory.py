"""``python -m bench.export_memory``: the orders service's memory while it exports 100,000
orders to CSV, for docs/BENCHMARKS.md.

An export reads only the query side, so the orders are projected straight into it (synthetic
orders placed in a window of 1990 that nothing else uses, written with the service's own
``QuerySide.project``). The export is then asked for through the gateway like the SPA does, the
orders process's resident memory (VmRSS in /proc) is sampled every 20 ms from before the
request until the job has finished, and the file is downloaded by its signed link and counted.
The same is done for a tenth as many orders, so the report shows whether memory grows with
the size of the export. At the end the query side is rebuilt from MongoDB, which drops the
synthetic rows again.
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

import httpx

from orderhub_common.events import (
    Channel,
    Customer,
    Order,
    OrderItem,
    OrderStatus,
    StatusHistoryEntry,
    StatusSource,
)
from orders.query_side import ProjectedOrder, QuerySide

WINDOW_START = datetime(1990, 1, 1, tzinfo=UTC)
STATUSES = list(OrderStatus)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def synthetic(n: int, start: datetime) -> Order:
    placed = start + timedelta(seconds=n)
    status = STATUSES[n % len(STATUSES)]
    return Order(
        id=f"ord_bench{n:09d}",
        external_id=f"BENCH-{n:09d}",
        channel=list(Channel)[n % 3],
        customer=Customer(name=f"Customer {n}", phone=f"+91 98{n:08d}", email=f"c{n}@example.com"),
        items=[
            OrderItem(sku=f"SKU-{n % 500}", name="Gold ring, 18k", qty=1 + n % 3, price=1999.0),
            OrderItem(sku=f"SKU-{n % 77}", name="Silver chain", qty=1, price=799.5),
        ],
        total=1999.0 * (1 + n % 3) + 799.5,
        currency="INR",
        status=status,
        status_history=[
            StatusHistoryEntry(status=status, changed_at=placed, source=StatusSource.CHANNEL)
        ],
        placed_at=placed,
        created_at=placed,
        updated_at=placed,
    )


async def project_orders(postgres_url: str, first: int, count: int) -> None:
    query_side = QuerySide(postgres_url, statement_timeout_ms=60_000)
    await query_side.connect()
    try:
        for start in range(first, first + count, 2000):
            end = min(start + 2000, first + count)
            await query_side.project(
                ProjectedOrder(synthetic(n, WINDOW_START), 1) for n in range(start, end)
            )
    finally:
        await query_side.close()


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


def measure(gateway: str, token: str, pid: int, count: int) -> dict[str, float]:
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
    with httpx.stream("GET", gateway + job["downloadUrl"], timeout=120) as response:
        response.raise_for_status()
        for chunk in response.iter_bytes():
            size += len(chunk)
            rows += chunk.count(b"\r\n")
    return {
        "orders": count,
        "seconds": took,
        "baseline_mib": baseline / 1024,
        "peak_mib": max(sampler.samples) / 1024,
        "growth_mib": (max(sampler.samples) - baseline) / 1024,
        "file_mib": size / 1024 / 1024,
        "rows": rows - 1,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gateway", required=True)
    parser.add_argument("--postgres-url", required=True)
    parser.add_argument("--orders-pid", type=int, required=True)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument(
        "--email", default=os.environ.get("BOOTSTRAP_ADMIN_EMAIL", "admin@orderhub.local")
    )
    parser.add_argument(
        "--password", default=os.environ.get("BOOTSTRAP_ADMIN_PASSWORD", "dev-only-admin-password")
    )
    args = parser.parse_args()
    print(f"projecting {args.count} synthetic orders into the query side ...", flush=True)
    asyncio.run(project_orders(args.postgres_url, 0, args.count))
    login = httpx.post(
        f"{args.gateway}/api/auth/login",
        json={"email": args.email, "password": args.password},
        timeout=30,
    )
    login.raise_for_status()
    token = login.json()["accessToken"]
    results = [
        measure(args.gateway, token, args.orders_pid, n) for n in (args.count // 10, args.count)
    ]
    print("| orders exported | time | orders RSS before | peak during | growth | CSV size |")
    print("|---:|---:|---:|---:|---:|---:|")
    for r in results:
        assert r["rows"] == r["orders"], r
        print(
            f"| {r['orders']:,.0f} | {r['seconds']:.1f} s | {r['baseline_mib']:.1f} MiB "
            f"| {r['peak_mib']:.1f} MiB | {r['growth_mib']:+.1f} MiB | {r['file_mib']:.1f} MiB |"
        )


if __name__ == "__main__":
    main()
