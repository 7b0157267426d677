"""``orders-explain-queries``: PostgreSQL's EXPLAIN ANALYZE of every query shape the orders API
runs, as JSON on standard output, for the benchmark report and for whoever adds a query.

Read-only and safe on a live stack: it runs the same statements a list or stats request runs.
"""

from __future__ import annotations

import asyncio
import re
import sys
from typing import Any

import orjson

from orderhub_common.app import connect_with_retries
from orderhub_common.settings import load_settings
from orders.main import query_side_from
from orders.query_side import QuerySide
from orders.schemas import OrderListQuery
from orders.settings import OrdersSettings

# What admins ask for, one of each shape: the default page, filters, each sort (a filter under
# a sort of its own: one walk per channel and status, merged), searches for
# the middle of a name, an Amazon order id and an email, date ranges, and a deep page.
QUERY_SHAPES: dict[str, dict[str, Any]] = {
    "newest first": {},
    "one status": {"status": ["PLACED"]},
    "two statuses of one channel": {"status": ["PLACED", "CONFIRMED"], "channel": ["amazon"]},
    "one channel by total": {"channel": ["blinkit"], "sortBy": "total", "sortOrder": "asc"},
    "two statuses of one channel, recently updated": {
        "status": ["CONFIRMED", "CANCELLED"],
        "channel": ["blinkit"],
        "sortBy": "updatedAt",
        "sortOrder": "asc",
    },
    "one status by total": {"status": ["SHIPPED"], "sortBy": "total"},
    "recently updated": {"sortBy": "updatedAt"},
    "by status": {"sortBy": "status", "sortOrder": "asc"},
    "by channel": {"sortBy": "channel"},
    "search part of a name": {"search": "sharm"},
    "search part of an Amazon order id": {"search": "-4417-"},
    "search part of an email": {"search": "ya.r@exa"},
    "placed in a day": {"from": "2026-11-01T00:00:00Z", "to": "2026-11-02T00:00:00Z"},
    # The SPA's date filter in India (UTC+05:30): part UTC days at both ends.
    "placed in an Indian day": {"from": "2026-10-31T18:30:00Z", "to": "2026-11-01T18:29:59.999Z"},
    "placed in an Indian month, one channel": {
        "from": "2026-10-31T18:30:00Z",
        "to": "2026-11-30T18:29:59.999Z",
        "channel": ["amazon"],
    },
    "a status and a search": {"status": ["SHIPPED"], "search": "ring"},
    "page 50": {"page": 50},
    "one tag": {"tag": ["gift wrap"]},
    "a tag and a channel": {"tag": ["vip"], "channel": ["website"]},
    "search part of a SKU": {"search": "rng-slv"},
}

_EXECUTION_TIME = re.compile(r"Execution Time: ([\d.]+) ms")


async def explain_all(query_side: QuerySide) -> list[dict[str, Any]]:
    plans: list[dict[str, Any]] = []
    for name, params in QUERY_SHAPES.items():
        query = OrderListQuery.model_validate(params)
        for statement, plan in (await query_side.explain(query)).items():
            timing = _EXECUTION_TIME.search(plan)
            plans.append(
                {
                    "name": f"{name}: {statement}",
                    "query": orjson.dumps(params).decode(),
                    "plan": plan,
                    "timingMs": float(timing.group(1)) if timing else None,
                }
            )
    return plans


async def _explain(settings: OrdersSettings) -> list[dict[str, Any]]:
    query_side = query_side_from(settings)
    await connect_with_retries(query_side, settings.startup_timeout_s)
    try:
        return await explain_all(query_side)
    finally:
        await query_side.close()


def run() -> None:
    settings = load_settings(OrdersSettings)
    plans = asyncio.run(_explain(settings))
    sys.stdout.write(orjson.dumps({"plans": plans}, option=orjson.OPT_INDENT_2).decode() + "\n")
