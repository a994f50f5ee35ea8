"""The RED aggregator's series, counts and exemplars (tests written against surviving mutants)."""

from __future__ import annotations

from typing import Any

import pytest

from ricecoder_otel.metrics.cardinality import CardinalityLimiter
from ricecoder_otel.metrics.red import DEFAULT_DURATION_BUCKETS
from ricecoder_otel.metrics.red_aggregator import DURATION_METRIC, RedAggregator

MS = 1_000_000


def _aggregator() -> RedAggregator:
    return RedAggregator(CardinalityLimiter(100), clock_ns=lambda: 42)


def _by_route(aggregator: RedAggregator) -> dict[Any, Any]:
    return {
        (
            s.attributes["http.route"],
            s.attributes["http.request.method"],
            s.attributes.get("http.response.status_code"),
        ): s
        for s in aggregator.snapshot()
    }


def test_counts_errors_and_buckets_accumulate_per_series() -> None:
    aggregator = _aggregator()
    attributes = {"http.route": "/a", "http.request.method": "GET", "http.response.status_code": 500}
    for _ in range(3):
        aggregator.record("GET /a", attributes, start_ns=0, end_ns=2 * MS, failed=False)
    [series] = aggregator.snapshot()
    assert series.count == 3 and series.errors == 3
    assert len(series.bucket_counts) == len(DEFAULT_DURATION_BUCKETS) + 1
    assert series.bucket_counts[0] == 3 and sum(series.bucket_counts) == 3
    assert aggregator.start_time_ns == 42


def test_one_second_is_exactly_the_one_second_bucket() -> None:
    aggregator = _aggregator()
    aggregator.record("GET /a", {"http.route": "/a"}, start_ns=0, end_ns=1_000_000_000, failed=False)
    [series] = aggregator.snapshot()
    assert series.sum == 1.0
    assert series.bucket_counts[DEFAULT_DURATION_BUCKETS.index(1.0)] == 1


def test_route_method_and_status_each_make_their_own_series_in_both_naming_schemes() -> None:
    aggregator = _aggregator()
    stable = [
        {"http.route": "/a", "http.request.method": "GET", "http.response.status_code": 200},
        {"http.route": "/b", "http.request.method": "GET", "http.response.status_code": 200},
        {"http.route": "/a", "http.request.method": "POST", "http.response.status_code": 200},
        {"http.route": "/a", "http.request.method": "GET", "http.response.status_code": 404},
    ]
    old = [
        {"http.route": "/c", "http.method": "GET", "http.status_code": 200},
        {"http.route": "/c", "http.method": "PUT", "http.status_code": 200},
        {"http.route": "/c", "http.method": "GET", "http.status_code": 503},
    ]
    for attributes in stable + old:
        aggregator.record("span", attributes, start_ns=0, end_ns=MS, failed=False)
    series = _by_route(aggregator)
    assert set(series) == {
        ("/a", "GET", 200), ("/b", "GET", 200), ("/a", "POST", 200), ("/a", "GET", 404),
        ("/c", "GET", 200), ("/c", "PUT", 200), ("/c", "GET", 503),
    }  # fmt: skip
    assert all(s.count == 1 for s in series.values())
    assert series[("/c", "GET", 503)].errors == 1


def test_without_a_route_the_span_name_and_the_failure_flag_separate_series() -> None:
    aggregator = _aggregator()
    aggregator.record("GET /x", {"http.request.method": "GET"}, start_ns=0, end_ns=MS, failed=False)
    aggregator.record("GET /y", {"http.request.method": "GET"}, start_ns=0, end_ns=MS, failed=False)
    aggregator.record("GET /y", {"http.request.method": "GET"}, start_ns=0, end_ns=MS, failed=True)
    series = {(s.attributes["http.route"], s.errors, s.count) for s in aggregator.snapshot()}
    assert series == {("GET /x", 0, 1), ("GET /y", 0, 1), ("GET /y", 1, 1)}  # a failure has its error.type
    failed = [s for s in aggregator.snapshot() if s.errors]
    assert failed[0].attributes.get("error.type") == "_OTHER"


def test_exemplars_keep_the_first_sampled_request_and_refresh_every_eighth() -> None:
    aggregator = _aggregator()
    attributes = {"http.route": "/a", "http.request.method": "GET", "http.response.status_code": 200}
    aggregator.record("GET /a", attributes, start_ns=0, end_ns=2 * MS, failed=False)  # not sampled
    [series] = aggregator.snapshot()
    assert series.exemplars == (None,) * (len(DEFAULT_DURATION_BUCKETS) + 1)
    for n in range(2, 10):  # requests 2..9 of the series, all sampled, same bucket
        aggregator.record("GET /a", attributes, start_ns=0, end_ns=2 * MS, failed=False, trace_id=n, span_id=100 + n)
    [series] = aggregator.snapshot()
    # Request 2 fills the empty bucket; 3..8 leave it; request 9 (count & 7 == 1) refreshes it.
    assert series.exemplars[0] == (9, 109, 0.002, 2 * MS)
    aggregator.record("GET /a", attributes, start_ns=0, end_ns=2 * MS, failed=False, trace_id=10, span_id=110)
    [series] = aggregator.snapshot()
    assert series.exemplars[0] == (9, 109, 0.002, 2 * MS)
    assert series.exemplars[1:] == (None,) * len(DEFAULT_DURATION_BUCKETS)


def test_the_second_sampled_request_fills_an_empty_bucket() -> None:
    aggregator = _aggregator()
    attributes = {"http.route": "/a"}
    aggregator.record("GET /a", attributes, start_ns=0, end_ns=2 * MS, failed=False, trace_id=1, span_id=11)
    aggregator.record("GET /a", attributes, start_ns=0, end_ns=2 * MS, failed=False, trace_id=2, span_id=12)
    aggregator.record("GET /a", attributes, start_ns=0, end_ns=800 * MS, failed=False, trace_id=3, span_id=13)
    [series] = aggregator.snapshot()
    assert series.exemplars[0] == (1, 11, 0.002, 2 * MS)  # request 2 does not replace request 1
    assert series.exemplars[DEFAULT_DURATION_BUCKETS.index(1.0)] == (3, 13, 0.8, 800 * MS)


def test_two_request_shapes_of_one_series_add_up() -> None:
    aggregator = _aggregator()
    stable = {"http.route": "/a", "http.request.method": "GET", "http.response.status_code": 200}
    old = {"http.route": "/a", "http.method": "get", "http.status_code": "200"}  # same series, another shape
    aggregator.record("GET /a", stable, start_ns=0, end_ns=MS, failed=False)
    aggregator.record("GET /a", old, start_ns=0, end_ns=MS, failed=False)
    aggregator.record("GET /a", stable, start_ns=0, end_ns=MS, failed=False)
    [series] = aggregator.snapshot()
    assert series.count == 3


def test_series_count_against_the_request_duration_limit_of_a_shared_limiter() -> None:
    """The limiter is shared with the meter provider: both count series of one metric name."""
    limiter = CardinalityLimiter(2)
    limiter.admit(DURATION_METRIC, {"http.route": "/seen-by-the-sdk"})
    aggregator = RedAggregator(limiter, clock_ns=lambda: 42)
    for route in ("/a", "/b"):
        attributes = {"http.route": route, "http.request.method": "GET", "http.response.status_code": 200}
        aggregator.record(f"GET {route}", attributes, start_ns=0, end_ns=MS, failed=False)
    assert limiter.series_count(DURATION_METRIC) == 2
    routes = sorted(str(s.attributes.get("http.route")) for s in aggregator.snapshot())
    assert routes == ["/a", "None"]  # "/b" is the metric's third series: the overflow series
    assert [s.attributes for s in aggregator.snapshot() if "http.route" not in s.attributes] == [
        {"otel.metric.overflow": True}
    ]


def test_a_failure_while_recording_releases_the_lock_and_loses_nothing_else() -> None:
    """The hot path takes the lock by hand (acquire/release, cheaper than ``with``): a request whose
    series cannot be resolved must not leave it held for every later request and collection."""
    aggregator = _aggregator()
    resolve = aggregator._resolve
    calls = 0

    def fails_once(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("resolution failed")
        return resolve(*args)

    aggregator._resolve = fails_once  # type: ignore[method-assign,assignment]
    attributes = {"http.route": "/a", "http.request.method": "GET", "http.response.status_code": 200}
    with pytest.raises(RuntimeError):
        aggregator.record("GET /a", attributes, 0, 5 * MS, False)
    aggregator.record("GET /a", attributes, 0, 5 * MS, False)
    [series] = aggregator.snapshot()  # would block forever with the lock still held
    assert series.count == 1 and sum(series.bucket_counts) == 1
