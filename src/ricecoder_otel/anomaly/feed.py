"""Feed the anomaly monitor from the metrics pipeline.

A metric exporter on its own periodic reader (delta temporality) turns every
collection interval into one point per watched series:

- ``http.server.request.duration{route}``: mean latency of the route in the
  interval (seconds), with the slowest exemplar (its trace, span and time);
- ``http.server.error_rate{route}``: errors / requests of the route;
- ``process.cpu.utilization`` and ``process.memory.usage`` (from the
  system-metrics instrumentation);
- every metric named in ``anomaly.metrics``: gauges by value, sums as a rate
  per second, histograms by their mean (with their largest exemplar).

Series keys include the identifying attributes (``name{k=v,...}``) so each
route or label set has its own detector.

The feed takes either temporality, metric by metric: delta data is used as is;
cumulative data (what an OTLP exporter's reader collects by default) is turned
into per-interval differences here (a count that went down is a restart and
starts over). So the feed can be handed the collections of a reader the pipeline
already runs for an exporter, instead of needing a reader of its own: a second
reader doubles the SDK's work for every synchronous measurement (each reader has
its own storage) and runs every observable callback (system metrics) twice per
interval.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from opentelemetry.sdk.metrics import Counter, Histogram, ObservableCounter, ObservableUpDownCounter, UpDownCounter
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    Gauge,
    HistogramDataPoint,
    MetricExporter,
    MetricExportResult,
    MetricsData,
    NumberDataPoint,
    Sum,
)
from opentelemetry.sdk.metrics.export import Histogram as HistogramData

from ricecoder_otel.anomaly.episode import Exemplar
from ricecoder_otel.anomaly.monitor import AnomalyMonitor
from ricecoder_otel.kernel.guard import report_once
from ricecoder_otel.kernel.metricdata import walk
from ricecoder_otel.metrics.red_aggregator import DURATION_METRIC, ERRORS_METRIC

ERROR_RATE_SERIES = "http.server.error_rate"
# The system-metrics instrumentation also emits process.runtime.cpython.* copies of these;
# feeding both into one series would give the detector two points per interval.
PROCESS_SERIES = {
    "process.cpu.utilization": "process.cpu.utilization",
    "process.memory.usage": "process.memory.usage",
}

_DELTA: dict[type, AggregationTemporality] = {
    Counter: AggregationTemporality.DELTA,
    UpDownCounter: AggregationTemporality.CUMULATIVE,
    Histogram: AggregationTemporality.DELTA,
    ObservableCounter: AggregationTemporality.DELTA,
    ObservableUpDownCounter: AggregationTemporality.CUMULATIVE,
}


def series_key(name: str, attributes: Any, keys: Sequence[str] | None = None) -> str:
    items = sorted((k, v) for k, v in dict(attributes or {}).items() if keys is None or k in keys)
    return name if not items else name + "{" + ",".join(f"{k}={v}" for k, v in items) + "}"


def _slowest_exemplar(point: HistogramDataPoint, since_ns: int = 0) -> Exemplar | None:
    """The largest exemplar with a trace recorded after ``since_ns`` (cumulative points keep old ones)."""
    slowest = None
    for exemplar in point.exemplars or ():
        if (
            exemplar.trace_id
            and exemplar.time_unix_nano > since_ns
            and (slowest is None or exemplar.value > slowest.value)
        ):
            slowest = exemplar
    if slowest is None or slowest.trace_id is None:
        return None
    span_id = f"{slowest.span_id:016x}" if slowest.span_id else None
    return Exemplar(f"{slowest.trace_id:032x}", span_id, slowest.time_unix_nano)


def _attributes_key(attributes: Any) -> tuple[Any, ...]:
    return tuple(sorted(dict(attributes or {}).items()))


class AnomalyFeedExporter(MetricExporter):
    """Turns each collection (delta or cumulative) into monitor points; never fails the reader."""

    def __init__(
        self,
        monitor: AnomalyMonitor,
        watched: Iterable[str] = (),
        *,
        enabled: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(preferred_temporality=_DELTA)
        self._monitor = monitor
        self._clock = clock
        self._last_export: float | None = None
        # Cumulative input: the previous (count, sum) of each histogram point and value of each
        # monotonic sum point, keyed by (metric name, attributes); bounded by the cardinality limit.
        self._previous: dict[tuple[str, tuple[Any, ...]], tuple[float, float]] = {}
        self._previous_export_ns = 0
        # Called after each interval's points are fed (the pipeline evaluates anomaly alert rules).
        self.after_feed: Callable[[], None] | None = None
        self.update(enabled, watched)

    def update(self, enabled: bool, watched: Iterable[str]) -> None:
        """Apply a config change: switch feeding on or off, change the extra watched metrics."""
        self.enabled = enabled
        self._watched = frozenset(watched)

    def export(self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any) -> MetricExportResult:
        if not self.enabled:
            return MetricExportResult.SUCCESS
        try:
            self._feed(metrics_data)
            if self.after_feed is not None:
                self.after_feed()
        except Exception as error:  # a bad point must not stop the metrics pipeline
            report_once("anomaly", "could not feed the detectors: %s", type(error).__name__)
        return MetricExportResult.SUCCESS

    def _histogram_interval(self, name: str, data: HistogramData, point: HistogramDataPoint) -> tuple[float, float]:
        """(count, sum) of ``point`` in this interval, whatever the temporality."""
        if data.aggregation_temporality is not AggregationTemporality.CUMULATIVE:
            return point.count, point.sum
        key = (name, _attributes_key(point.attributes))
        previous = self._previous.get(key)
        self._previous[key] = (point.count, point.sum)
        if previous is None or point.count < previous[0]:
            return point.count, point.sum  # first sight since the start, or a restart
        return point.count - previous[0], point.sum - previous[1]

    def _sum_interval(self, name: str, data: Sum, point: NumberDataPoint) -> float | None:
        """The increase of a monotonic sum point in this interval.

        A series first seen counts in full: the feed sees every collection from the start, so it
        was zero at the previous one (as a delta reader would report it). No increase gives None
        (a delta reader reports no point for a series nothing was recorded on).
        """
        value = float(point.value)
        if data.aggregation_temporality is not AggregationTemporality.CUMULATIVE:
            return value
        key = (name, _attributes_key(point.attributes))
        previous = self._previous.get(key)
        self._previous[key] = (value, 0.0)
        if previous is None or value < previous[0]:
            return value or None  # first sight, or a restart
        return value - previous[0] or None

    def _feed(self, metrics_data: MetricsData) -> None:
        now = self._clock()
        interval = now - self._last_export if self._last_export is not None else None
        self._last_export = now
        since_ns = self._previous_export_ns
        requests: dict[str, tuple[float, Exemplar | None]] = {}
        errors: dict[str, float] = {}
        for _, metric in walk(metrics_data):
            data = metric.data
            if metric.name == DURATION_METRIC and isinstance(data, HistogramData):
                for point in data.data_points:
                    count, total = self._histogram_interval(DURATION_METRIC, data, point)
                    if count > 0:
                        route = series_key(DURATION_METRIC, point.attributes, ("http.route",))
                        cumulative = data.aggregation_temporality is AggregationTemporality.CUMULATIVE
                        exemplar = _slowest_exemplar(point, since_ns if cumulative else 0)
                        self._monitor.observe(route, total / count, now, exemplar)
                        seen, _ = requests.get(route, (0, None))
                        requests[route] = (seen + count, exemplar)
            elif metric.name == ERRORS_METRIC and isinstance(data, Sum):
                for number in data.data_points:
                    increase = self._sum_interval(ERRORS_METRIC, data, number)
                    route = series_key(DURATION_METRIC, number.attributes, ("http.route",))
                    errors[route] = errors.get(route, 0.0) + (increase or 0.0)
            elif metric.name in PROCESS_SERIES and isinstance(data, Gauge | Sum):
                self._feed_numbers(PROCESS_SERIES[metric.name], data, interval, now, by_attributes=False)
            elif metric.name in self._watched:
                self._feed_watched(metric.name, data, interval, now, since_ns)
        self._previous_export_ns = int(now * 1e9)
        for route, (count, exemplar) in requests.items():
            rate_key = ERROR_RATE_SERIES + route[len(DURATION_METRIC):]
            self._monitor.observe(rate_key, errors.get(route, 0.0) / count, now, exemplar)

    def _feed_watched(self, name: str, data: Any, interval: float | None, now: float, since_ns: int) -> None:
        if isinstance(data, HistogramData):
            cumulative = data.aggregation_temporality is AggregationTemporality.CUMULATIVE
            for point in data.data_points:
                count, total = self._histogram_interval(name, data, point)
                if count > 0:
                    exemplar = _slowest_exemplar(point, since_ns if cumulative else 0)
                    self._monitor.observe(series_key(name, point.attributes), total / count, now, exemplar)
        elif isinstance(data, Gauge | Sum):
            self._feed_numbers(name, data, interval, now, by_attributes=True)

    def _feed_numbers(
        self, name: str, data: Gauge | Sum, interval: float | None, now: float, *, by_attributes: bool
    ) -> None:
        points: list[NumberDataPoint] = list(data.data_points)
        if not by_attributes:
            # One process-wide series: the sum over attribute sets (e.g. memory usage by type is not split).
            total = sum(float(p.value) for p in points)
            points = [NumberDataPoint({}, 0, 0, total)] if points else []
        for point in points:
            value: float | None = float(point.value)
            if isinstance(data, Sum) and data.is_monotonic:
                value = self._sum_interval(name, data, point)
                if value is None or interval is None or interval <= 0:
                    continue  # the first delta (or cumulative sight) has no known duration
                value /= interval
            self._monitor.observe(series_key(name, point.attributes), value, now)

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        return None
