from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import circuitbreaker
import httpx
import pytest
from circuitbreaker import CircuitBreaker, CircuitBreakerError
from prometheus_client import REGISTRY

from ingest.cursor import FeedCursor
from ingest.feeds import BlinkitFeed, ChannelFeedError
from ingest.poller import ChannelPoller, PollSettings
from orderhub_common.circuits import CircuitState

pytestmark = pytest.mark.unit

Handler = Callable[[httpx.Request], httpx.Response]


def client(handler: Handler) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url="http://channels", transport=httpx.MockTransport(handler))


async def test_blinkit_feed_asks_in_epoch_milliseconds() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.params["updated_since_ms"] == "1795513874125"
        return httpx.Response(200, json={"orders": [], "next_cursor": None, "has_more": False})

    since = datetime(2026, 11, 24, 9, 51, 14, 125_000, tzinfo=UTC)
    page = await BlinkitFeed(client(handler)).fetch(since=since, token=None, limit=10)
    assert page.next_token is None


@pytest.mark.parametrize(
    ("response", "retryable"),
    [
        (httpx.Response(503, json={}), True),
        (httpx.Response(500, json={}), True),
        (httpx.Response(429, json={}), True),
        (httpx.Response(400, json={}), False),
        (httpx.Response(200, json={"orders": "none"}), False),
        (httpx.Response(200, text="<html>maintenance</html>"), False),
    ],
)
async def test_feed_failures_say_whether_a_retry_may_help(
    response: httpx.Response, retryable: bool
) -> None:
    feed = BlinkitFeed(client(lambda _: response))
    with pytest.raises(ChannelFeedError) as raised:
        await feed.fetch(since=None, token=None, limit=10)
    assert raised.value.retryable is retryable


async def test_an_unreachable_channel_is_a_retryable_failure() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(ChannelFeedError) as raised:
        await BlinkitFeed(client(handler)).fetch(since=None, token=None, limit=10)
    assert raised.value.retryable


class FlakyChannel:
    """Answers 503 while ``down``, else an empty Blinkit page; counts the requests."""

    def __init__(self) -> None:
        self.down = True
        self.requests = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if self.down:
            return httpx.Response(503, json={"error": {"code": "service_unavailable"}})
        return httpx.Response(200, json={"orders": [], "next_cursor": None})


def reader(channel: FlakyChannel, *, recovery_s: float) -> ChannelPoller:
    """A poller used only for its guarded feed read (no Redis, no Kafka involved)."""
    return ChannelPoller(
        BlinkitFeed(client(channel)),
        repository=cast(Any, None),
        lease=cast(Any, None),
        publisher=cast(Any, None),
        breaker=CircuitBreaker(
            failure_threshold=2, recovery_timeout=recovery_s, expected_exception=ChannelFeedError
        ),
        settings=PollSettings(
            interval_s=1,
            page_size=10,
            retry_attempts=3,
            retry_initial_s=0.01,
            retry_max_s=0.02,
            settle_grace=timedelta(seconds=5),
        ),
    )


async def test_reads_are_retried_then_the_circuit_opens_and_stops_asking() -> None:
    channel = FlakyChannel()
    poller = reader(channel, recovery_s=60)
    for _ in range(2):
        with pytest.raises(ChannelFeedError):
            await poller._read(FeedCursor())
    assert channel.requests == 6, "three attempts per read"
    assert poller.circuit == CircuitState.OPEN

    with pytest.raises(CircuitBreakerError):
        await poller._read(FeedCursor())
    assert channel.requests == 6, "an open circuit does not call the channel"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(circuitbreaker, "monotonic", fake)
    return fake


async def open_circuit(poller: ChannelPoller) -> None:
    for _ in range(2):
        with pytest.raises(ChannelFeedError):
            await poller._read(FeedCursor())
    assert poller.circuit == CircuitState.OPEN


async def test_after_the_recovery_time_one_trial_read_closes_the_circuit(
    clock: FakeClock,
) -> None:
    channel = FlakyChannel()
    poller = reader(channel, recovery_s=30)
    await open_circuit(poller)
    clock.now += 29
    assert poller.circuit == CircuitState.OPEN
    clock.now += 1
    assert poller.circuit == CircuitState.HALF_OPEN

    channel.down = False
    await poller._read(FeedCursor())
    assert poller.circuit == CircuitState.CLOSED


async def test_a_failed_trial_read_opens_the_circuit_again(clock: FakeClock) -> None:
    channel = FlakyChannel()
    poller = reader(channel, recovery_s=30)
    await open_circuit(poller)
    clock.now += 30
    assert poller.circuit == CircuitState.HALF_OPEN
    with pytest.raises(ChannelFeedError):
        await poller._read(FeedCursor())
    assert poller.circuit == CircuitState.OPEN


async def test_the_time_a_circuit_left_closed_is_exported_until_it_closes_again(
    clock: FakeClock,
) -> None:
    # What the breaker-open alert reads: open and half open are one outage, closed ends it.
    channel = FlakyChannel()
    poller = reader(channel, recovery_s=30)
    poller.clock = lambda: datetime.fromtimestamp(clock.now, UTC)

    def exported() -> float | None:
        poller._export_circuit()
        return REGISTRY.get_sample_value(
            "ingest_circuit_opened_timestamp_seconds", {"channel": "blinkit"}
        )

    assert exported() == 0
    await open_circuit(poller)
    assert exported() == 1000.0
    clock.now += 30
    assert poller.circuit == CircuitState.HALF_OPEN
    assert exported() == 1000.0, "half open is still the same outage"
    with pytest.raises(ChannelFeedError):
        await poller._read(FeedCursor())
    assert exported() == 1000.0

    clock.now += 30
    channel.down = False
    await poller._read(FeedCursor())
    assert exported() == 0
