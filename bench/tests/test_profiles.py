from __future__ import annotations

import pytest

from bench.profiles import own_time

pytestmark = pytest.mark.unit

RAW = """\
<module> (gateway:1);run (uvicorn/main.py:10);Runner.run (asyncio/runners.py:118) 700
<module> (gateway:1);handle (gateway/proxy.py:50);decode (jwt/api.py:20) 60
<module> (gateway:1);handle (gateway/proxy.py:50);_cached_read (gateway/proxy.py:80) 30
<module> (gateway:1);handle (gateway/proxy.py:50);decode (jwt/api.py:20) 30
WorkerThread.run (anyio/_backends/_asyncio.py:900);Condition.wait (threading.py:320) 900
<module> (gateway:1);send (h11/_connection.py:500) 30
"""


def test_own_time_ranks_the_innermost_frames_of_busy_samples_and_leaves_idle_out() -> None:
    assert own_time(RAW) == [
        ("decode (api.py)", 0.6),
        ("_cached_read (proxy.py)", 0.2),
        ("send (_connection.py)", 0.2),
    ]
    assert own_time("") == []
