"""The anomaly feed reads cumulative collections as well as delta ones.

That is what lets it ride on a reader the pipeline already runs for an exporter (OTLP's
default temporality is cumulative) instead of a second reader, which doubles the SDK's work
for every synchronous measurement and runs every observable callback twice per interval.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    HistogramDataPoint,
    InMemoryMetricReader,
    Metric,
    MetricsData,
    ResourceMetrics,
    ScopeMetrics,
)
from opentelemetry.sdk.metrics.export import Histogram as HistogramData
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from ricecoder_otel.anomaly.feed import AnomalyFeedExporter
from ricecoder_otel.metrics.red_aggregator import DURATION_METRIC, ERRORS_METRIC


class RecordingMonitor:
    def __init__(self) -> None:
        self.points: list[tuple[str, float]] = []

    def observe(self, key: str, value: float, timestamp: Any = None, trace_id: str | None = None) -> float:
        self.points.append((key, round(value, 9)))
        return 0.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def _feeds(watched: tuple[str, ...] = ()) -> tuple[RecordingMonitor, RecordingMonitor, Any]:
    delta = InMemoryMetricReader(
        preferred_temporality={Histogram: AggregationTemporality.DELTA, Counter: AggregationTemporality.DELTA}
    )
    cumulative = InMemoryMetricReader()  # the SDK default, like the OTLP exporter's reader
    provider = MeterProvider(metric_readers=[delta, cumulative])
    clock = Clock()
    monitors = RecordingMonitor(), RecordingMonitor()
    feeds = [AnomalyFeedExporter(m, watched, clock=clock) for m in monitors]  # type: ignore[arg-type]

    def collect() -> None:
        clock.now += 10.0
        for reader, feed in zip((delta, cumulative), feeds, strict=True):
            data = reader.get_metrics_data()
            if data is not None:
                feed.export(data)

    return monitors[0], monitors[1], (provider, collect)


def test_cumulative_collections_give_the_same_points_as_delta_ones() -> None:
    by_delta, by_cumulative, (provider, collect) = _feeds(watched=("shop.orders",))
    meter = provider.get_meter("test")
    duration = meter.create_histogram(DURATION_METRIC, unit="s")
    errors = meter.create_counter(ERRORS_METRIC)
    orders = meter.create_counter("shop.orders")
    for interval, (latencies, failed, placed) in enumerate(
        [([0.1, 0.3], 0, 4), ([0.2, 0.2, 0.5, 0.1], 2, 0), ([1.0], 1, 7), ([], 0, 3)]
    ):
        for value in latencies:
            duration.record(value, {"http.route": "/a"})
        if interval == 1:
            duration.record(0.05, {"http.route": "/b"})
        if failed:
            errors.add(failed, {"http.route": "/a"})
        if placed:
            orders.add(placed)
        collect()
    provider.shutdown()
    assert by_cumulative.points == by_delta.points
    keys = {key for key, _ in by_delta.points}
    assert {"http.server.request.duration{http.route=/a}", "http.server.error_rate{http.route=/a}"} <= keys
    assert ("http.server.error_rate{http.route=/a}", 0.5) in by_delta.points  # 2 of 4 in the second interval
    assert ("shop.orders", 0.7) in by_delta.points  # 7 orders in 10 s


def _histogram(count: int, total: float, temporality: AggregationTemporality) -> MetricsData:
    point = HistogramDataPoint({"http.route": "/a"}, 0, 1, count, total, [count], [], total, total)
    metric = Metric(DURATION_METRIC, "", "s", HistogramData([point], temporality))
    scope = ScopeMetrics(InstrumentationScope("t"), [metric], "")
    return MetricsData([ResourceMetrics(Resource({}), [scope], "")])


def test_a_cumulative_count_that_goes_down_is_a_restart() -> None:
    monitor = RecordingMonitor()
    feed = AnomalyFeedExporter(monitor, clock=Clock())  # type: ignore[arg-type]
    for count, total in ((4, 2.0), (6, 3.0), (6, 3.0), (2, 0.5)):
        feed.export(_histogram(count, total, AggregationTemporality.CUMULATIVE))
    route = "http.server.request.duration{http.route=/a}"
    # 4 requests averaging 0.5 s; then 2 more averaging 0.5 s; an idle interval adds no point; a restart.
    assert [v for k, v in monitor.points if k == route] == [0.5, 0.5, 0.25]
