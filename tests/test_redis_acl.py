"""The stack's Redis lets the services' user run the services' commands and nothing else (issue
21, finding 13: it could FLUSHDB, REPLICAOF, KEYS, ...), against the test profile's real Redis
with its ACL file (``devstack.credentials.redis_acl``, the same rules as docker-compose.yml's)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from redis import Redis
from redis.exceptions import ResponseError

from devstack.credentials import REDIS_APP_COMMANDS
from devstack.infra_urls import _on_database
from devstack.stack import Stack

pytestmark = pytest.mark.integration

# Not one of the suites' databases (DEVELOPING.md: 1 to 5).
ACL_TEST_DB = 6
SCRIPT = "return redis.call('GET', KEYS[1])"
REFUSAL = r"no permissions to run|can't run this command|DEBUG command not allowed"

# One harmless use of each command the services may run (``REDIS_APP_COMMANDS``).
USES: dict[str, Callable[[Redis], Any]] = {
    "ping": lambda r: r.ping(),
    "select": lambda r: r.execute_command("SELECT", ACL_TEST_DB),
    "multi": lambda r: r.pipeline(transaction=True).set("acl:t", 1).incr("acl:t").execute(),
    "exec": lambda r: r.pipeline(transaction=True).get("acl:t").execute(),
    "get": lambda r: r.get("acl:s"),
    "set": lambda r: r.set("acl:s", "v", ex=60, nx=True),
    "mget": lambda r: r.mget(["acl:s", "acl:t"]),
    "incr": lambda r: r.execute_command("INCR", "acl:n"),
    "incrby": lambda r: r.incr("acl:n"),  # redis-py sends INCRBY
    "del": lambda r: r.delete("acl:gone"),
    "exists": lambda r: r.exists("acl:s"),
    "expire": lambda r: r.expire("acl:n", 60),
    "pexpire": lambda r: r.pexpire("acl:n", 60_000),
    "ttl": lambda r: r.ttl("acl:n"),
    "hget": lambda r: r.hget("acl:h", "f"),
    "hset": lambda r: r.hset("acl:h", mapping={"f": "1", "g": "2"}),
    "hsetnx": lambda r: r.hsetnx("acl:h", "n", "1"),
    "hmget": lambda r: r.hmget("acl:h", ["f", "g"]),
    "hgetall": lambda r: r.hgetall("acl:h"),
    "hdel": lambda r: r.hdel("acl:h", "g"),
    "hincrby": lambda r: r.hincrby("acl:h", "f", 1),
    "lindex": lambda r: r.lindex("acl:l", 0),
    "lpush": lambda r: r.lpush("acl:l", 1, 2),
    "ltrim": lambda r: r.ltrim("acl:l", 0, 9),
    "eval": lambda r: r.eval(SCRIPT, 1, "acl:s"),
    "evalsha": lambda r: r.evalsha(r.script_load(SCRIPT), 1, "acl:s"),
    "script|load": lambda r: r.script_load(SCRIPT),
}

# What the finding names and what else would let one service's user take Redis down, read
# everything at once or change its configuration. Each harmless were it allowed (the test's
# own database; REPLICAOF NO ONE and SHUTDOWN ABORT are no-ops on a running primary).
REFUSED: dict[str, tuple[Any, ...]] = {
    "FLUSHDB": ("FLUSHDB",),
    "FLUSHALL": ("FLUSHALL", "ASYNC"),
    "REPLICAOF": ("REPLICAOF", "NO", "ONE"),
    "SLAVEOF": ("SLAVEOF", "NO", "ONE"),
    "CONFIG GET": ("CONFIG", "GET", "dir"),
    "CONFIG SET": ("CONFIG", "SET", "maxmemory-policy", "noeviction"),
    "DEBUG": ("DEBUG", "SLEEP", "0"),
    "SHUTDOWN": ("SHUTDOWN", "ABORT"),
    "MODULE": ("MODULE", "LIST"),
    "ACL": ("ACL", "LIST"),
    "KEYS": ("KEYS", "acl:*"),
    "SCAN": ("SCAN", "0"),
    "INFO": ("INFO",),
    "CLIENT LIST": ("CLIENT", "LIST"),
    "SWAPDB": ("SWAPDB", ACL_TEST_DB, ACL_TEST_DB),
    "BGREWRITEAOF": ("BGREWRITEAOF",),
    "SCRIPT FLUSH": ("SCRIPT", "FLUSH"),
    "PUBLISH": ("PUBLISH", "acl", "x"),
    "FLUSHDB from Lua": ("EVAL", "return redis.call('FLUSHDB')", 0),
}


@pytest.fixture(scope="module")
def stack(test_stack: Stack) -> Stack:
    test_stack.ensure_infra_running()
    return test_stack


@pytest.fixture
def app_user(stack: Stack) -> Iterator[Redis]:
    """The services' user, as they connect (no CLIENT SETINFO)."""
    client = Redis.from_url(_on_database(stack.redis_url, ACL_TEST_DB), driver_info=None)
    yield client
    client.close()


def test_every_command_the_services_use_has_a_use_here() -> None:
    assert sorted(USES) == sorted(REDIS_APP_COMMANDS)


@pytest.mark.parametrize("command", REDIS_APP_COMMANDS)
def test_the_services_user_may_run_the_services_commands(app_user: Redis, command: str) -> None:
    USES[command](app_user)


@pytest.mark.parametrize("command", REFUSED.values(), ids=REFUSED.keys())
def test_the_services_user_may_not_run_anything_else(
    app_user: Redis, command: tuple[Any, ...]
) -> None:
    # NOPERM; from a script, Redis's own words; DEBUG is refused by Redis's own default
    # (enable-debug-command no) before the ACL is asked.
    with pytest.raises(ResponseError, match=REFUSAL):
        app_user.execute_command(*command)


def test_what_the_services_user_wrote_in_transactions_and_scripts_survives_a_restart(
    stack: Stack, app_user: Redis
) -> None:
    # Redis 7.0 replays its append-only file as the default user: with that user switched off
    # and allowed nothing, every MULTI/EXEC and every script that wrote twice was dropped at the
    # next start (auth's sessions, ingest's channel records, the limits' windows).
    app_user.execute_command("SELECT", ACL_TEST_DB)
    app_user.pipeline(transaction=True).hset("acl:restart:h", "f", "1").expire(
        "acl:restart:h", 600
    ).execute()
    app_user.eval(
        "redis.call('SET', KEYS[1], 'a'); redis.call('LPUSH', KEYS[2], 'b'); return 1",
        2,
        "acl:restart:s",
        "acl:restart:l",
    )

    stack.stop("redis")
    stack.start("redis")

    again = Redis.from_url(_on_database(stack.redis_url, ACL_TEST_DB), driver_info=None)
    try:
        assert again.hget("acl:restart:h", "f") == b"1"
        assert again.ttl("acl:restart:h") > 0
        assert again.get("acl:restart:s") == b"a"
        assert again.lindex("acl:restart:l", 0) == b"b"
    finally:
        again.close()
