# ruff: noqa: E501 - the markdown tables of the page cannot wrap
"""The method section of docs/BENCHMARKS.md: why the bench models a crowd, where an unloaded
request waited, and when the edge sheds. Written from an investigation, not from a run's
results: its figures carry the machine's load beside them because they were measured on a shared
machine, with other test stacks running.
"""

METHOD = """## Method: the crowd, the waits, and shedding

**Why a crowd.** Until this bench modelled a crowd, its paced and fixed-rate steps were one
signed-in admin session shared by hundreds of Locust users, with the per-user limit lifted: one
admin making more than a status move a second. Each of an admin's writes marks that admin's
cached lists stale (so that the admin's next list shows the move), so nearly every read of that
"crowd" missed the gateway's cache and became a call to orders; and the per-user limit, the very
thing that stops one person asking for hundreds of requests a second, was switched off. Now every
step but one is a crowd of people with accounts of their own (a fifth of them admins), each
signed in once; the per-user limits stay as configured and only the per-address limits are raised
(the whole crowd comes from the bench's one address). The one heavy admin stays as a step of its
own, at the most the per-user limit lets one person ask.

**Where an unloaded request waited.** The paced 25 req/s step answered in 134 ms at the median
with three quarters of the CPU idle. Reproduced at 25 req/s for 30 to 40 s against a store of
6,000 orders, on this 2-core machine while other engineers' test stacks ran on it (load average
3 to 15, measured with `uptime` beside each run), with the gateway's new per-hop histograms, the
orders service's request histograms, `py-spy` on each service and PostgreSQL's `pg_stat_activity`
sampled every 20 ms:

| what | one shared admin session (the old paced step) | the crowd |
|---|---|---|
| median at the client | 94 to 165 ms (four runs) | 10 to 15 ms (two runs) |
| reads answered from the gateway's cache | 82 of 835 | 317 of 1,072 |
| wait at the edge for a slot to orders (`gateway_upstream_queue_seconds`) | 2 ms in all, over 732 calls | 3 ms in all, over 791 calls |
| mean time at orders (`gateway_upstream_seconds`) | 107 ms | 29 ms |
| CPU of orders, of the gateway (percent of one core) | 10, 7 | 9, 7 |

- Not the edge's slot wait (the histogram above), not Locust's pacing (the same Locust paces the
  crowd), and not Nagle's algorithm with delayed ACKs: asyncio sets `TCP_NODELAY` on every TCP
  transport (uvicorn, httpx, asyncpg, redis-py), and a cached read timed with `curl` on a
  kept-alive connection took 2 to 4 ms.
- The shared session: its own writes kept its lists uncached (one hit in ten against one in
  three for the crowd), so most of its requests were calls to orders. Without any status move it
  still missed more, and its median stayed at 91 ms: the rest is the cost of each call.
- Each call to orders waited, not worked: `py-spy` found orders' event loop idle in two thirds
  of its samples, and PostgreSQL's sessions were "idle in transaction", waiting for orders, in
  104 of 125 busy samples: every read was four round trips (BEGIN, the page, the count, the
  ROLLBACK when the connection went back to the pool), plus the token's revocation check in
  Redis, and on a machine whose run queue is long each round trip is a wake-up of another
  process that waits its turn for a core. Reads now run without a transaction of their own (each
  statement is its own snapshot under READ COMMITTED either way): a list is two round trips to
  PostgreSQL and stats one (`services/orders/tests/integration/test_query_side.py` counts them).
- With both (the crowd, reads without their own transaction), 40 s each, load average 8 to 17:
  the crowd at 25 req/s answered in 12 ms at the median (p95 65 ms), the closed-loop normal step
  (20 people) in 12 ms (p95 61 ms), and a call spent 19 ms at orders on average (3 ms of wait
  for a slot in all, over 779 calls).

**Shedding only when saturated.** The edge used to let 16 calls at a time reach orders and
queue the rest for at most 0.25 s, so a burst of slow-ish reads was refused while the machine had
CPU to spare. Each service's limit now adapts to its latency (additive increase while calls are
answered within `GATEWAY_UPSTREAM_LATENCY_TARGET_S`, a tenth less when the smoothed latency
passes it, between `GATEWAY_UPSTREAM_MIN_IN_FLIGHT` and the service's maximum), and a call beyond
the limit waits for a slot unless its expected wait would break the target, the one case in
which the 503 is answered at once. A first version also counted the service's own latency
against the wait: the crowd at 200 req/s for 30 s (6,000 orders, load average 3 to 4) had 227
calls refused (150 errors at the client, the rest served stale) with the stack at 58% of the
machine. Counting the wait alone, the same step had no error, p50 22 ms and p95 224 ms, a call
waited 0.4 ms for a slot on average and spent 46 ms at orders, and the stack spent 5.7 ms of CPU
per request (gateway 1.8, orders 1.8, MongoDB 0.8, PostgreSQL 0.6, auth 0.3, Redis 0.2, Kafka
0.2). The gateway exports the limit
(`gateway_upstream_concurrency_limit`), the wait at the edge and the time at the service, so
where a slow answer waited shows in production as it does here.

**CPU per request** in the table above is each component's mean CPU over a step divided by the
step's achieved rate: it includes each component's background work (Kafka, the outbox relay, the
consumers), which weighs most at low rates, so the 200 req/s step is the one the budget of 4 ms
across the stack is held to.
"""
