"""The SDK side of alerting: a pull reader of exact cumulative values, and the alert event name.

:class:`AlertReader` is registered with the MeterProvider like any reader, but nobody exports
from it: the evaluation loop calls :meth:`AlertReader.read` once per evaluation and gets the
SDK's cumulative data of the metrics the rules read (:mod:`~ricecoder_otel.alerting.collect`)
plus the producers' (RED metrics from spans). :func:`snapshot` turns the
metrics the rules read into the engine's plain values. Alert transitions reach OpenTelemetry
through the event hub as ``ricecoder.alert`` log records
(:class:`~ricecoder_otel.kernel.events.AlertTransition`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from opentelemetry.sdk.metrics.export import (
    Gauge,
    Histogram,
    HistogramDataPoint,
    MetricReader,
    MetricsData,
    Sum,
)

from ricecoder_otel.alerting.collect import Unsupported, collect_streams
from ricecoder_otel.alerting.series import Hist, Labels, MetricKind, MetricSnapshot, Value, labels_of
from ricecoder_otel.kernel.capability import MetricProducer
from ricecoder_otel.kernel.events import AlertTransition
from ricecoder_otel.kernel.guard import report_once
from ricecoder_otel.kernel.metricdata import walk
from ricecoder_otel.kernel.reader import merge_producers

EVENT_NAME = AlertTransition.event_name


class AlertReader(MetricReader):
    """A cumulative pull reader that only the evaluation loop collects."""

    def __init__(self, producers: Sequence[MetricProducer]) -> None:
        super().__init__()
        self._producers = producers
        self._data: MetricsData | None = None
        self._full = False

    def read(self, names: Collection[str] | None = None) -> MetricsData | None:
        """Collect now: the SDK's streams named ``names`` (all of them when None) plus every producer's data.

        Restricting the collection to the streams the rules read skips every other observable
        callback (system metrics cost 70-160 ms of CPU per collection); when the SDK's internals
        are not the expected ones, the whole collection runs instead.
        """
        data: MetricsData | None = None
        if names is not None and not self._full:
            try:
                data = collect_streams(self, names)
            except Unsupported as error:
                self._full = True
                report_once("alerting", "collecting every instrument for alert rules (slower): %s", error)
        if names is None or self._full:
            self._data = None
            self.collect()
            data, self._data = self._data, None
        return merge_producers(data, self, self._producers)

    def _receive_metrics(self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any) -> None:
        self._data = metrics_data

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True  # nothing to export; collecting here would only cost the flusher time

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        self._data = None


def snapshot(data: MetricsData | None, metrics: Collection[str]) -> dict[str, MetricSnapshot]:
    """The current value of every series of ``metrics`` in ``data``."""
    found: dict[str, tuple[MetricKind, dict[Labels, Value]]] = {}
    if data is None or not metrics:
        return {}
    for _, metric in walk(data):
        if metric.name not in metrics:
            continue
        points = metric.data
        kind: MetricKind
        if isinstance(points, Histogram):
            kind = "histogram"
        elif isinstance(points, Sum) and points.is_monotonic:
            kind = "counter"
        elif isinstance(points, Sum | Gauge):
            kind = "gauge"
        else:
            continue
        series = found.setdefault(metric.name, (kind, {}))[1]
        for point in points.data_points:
            key = labels_of(point.attributes or {})
            if isinstance(point, HistogramDataPoint):
                counts = tuple(float(c) for c in point.bucket_counts)
                series[key] = Hist(float(point.count), float(point.sum), tuple(point.explicit_bounds), counts)
            else:
                series[key] = float(point.value)
    return {name: MetricSnapshot(kind, series) for name, (kind, series) in found.items()}
