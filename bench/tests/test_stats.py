from __future__ import annotations

import pytest

from bench.stats import Sample, error_kind, in_window, numbers, numbers_by_name, percentile

pytestmark = pytest.mark.unit


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50
    assert percentile(values, 95) == 95
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([7.0], 99) == 7
    assert percentile([], 50) == 0
    # Of 200 requests, p99 is the second slowest.
    two_hundred = [float(v) for v in range(200)]
    assert percentile(two_hundred, 99) == 197


def test_numbers_count_rate_latency_and_errors_by_kind() -> None:
    samples = [Sample(100 + i / 10, float(i), "list", None) for i in range(1, 96)]
    samples += [Sample(110, 5000.0, "list", "timeout")] * 3
    samples += [Sample(110, 6000.0, "login", "HTTP 429 rate_limited")] * 2
    result = numbers(samples, seconds=10)
    assert result.requests == 100
    assert result.rps == 10
    assert result.errors == 5
    assert result.error_ratio == pytest.approx(0.05)
    assert result.error_kinds == {"timeout": 3, "HTTP 429 rate_limited": 2}
    assert list(result.error_kinds) == ["timeout", "HTTP 429 rate_limited"]  # most common first
    assert result.p50_ms == 50
    assert result.p95_ms == 95
    assert result.p99_ms == 6000  # failed requests count in the latency too
    assert result.max_ms == 6000


def test_no_samples_give_zeros_not_errors() -> None:
    result = numbers([], seconds=0)
    assert (result.requests, result.rps, result.p95_ms, result.errors) == (0, 0, 0, 0)


def test_windows_hold_the_requests_that_started_in_them() -> None:
    samples = [Sample(t, 1.0, "detail", None) for t in (9.99, 10.0, 15.0, 19.99, 20.0)]
    assert [s.started_at for s in in_window(samples, 10, 20)] == [10.0, 15.0, 19.99]


def test_numbers_by_request_name() -> None:
    samples = [Sample(1, 10.0, "detail", None), Sample(1, 30.0, "stats", None)]
    by_name = numbers_by_name(samples, seconds=1)
    assert set(by_name) == {"detail", "stats"}
    assert by_name["stats"].p50_ms == 30


def test_error_kinds_are_short_and_groupable() -> None:
    assert error_kind(429, "rate_limited") == "HTTP 429 rate_limited"
    assert error_kind(502, None) == "HTTP 502"
    assert error_kind(0, None, "ConnectionRefusedError") == "ConnectionRefusedError"
    assert error_kind(0, None) == "connection failed"


def test_samples_survive_the_trip_through_json_rows() -> None:
    sample = Sample(1_700_000_000.12345, 12.345, "search email", "timeout")
    again = Sample.from_row(sample.to_row())
    assert again.name == "search email"
    assert again.error_kind == "timeout"
    assert again.elapsed_ms == pytest.approx(12.35)
    assert Sample.from_row([1.0, 2.0, "detail", None]).error_kind is None
