"""Publish :class:`RedAggregator` state as standard OpenTelemetry metric data.

:class:`RedPublisher` is a metric producer: every reader the pipeline builds
(``kernel.reader``) merges its data into each collection, the SDK's data plus one scope,
``ricecoder_otel.red``, holding ``http.server.request.duration`` (histogram) and
``ricecoder.http.server.errors`` (sum), in the reader's preferred temporality.
Exporters and pull endpoints downstream (OTLP, Prometheus, the embedded store,
the anomaly feed) see ordinary SDK metric data.

Delta readers get differences from their previous collection; their min and
max are the cumulative ones (the aggregator keeps one state for all readers).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from opentelemetry.sdk.metrics import Exemplar as SdkExemplar
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    Histogram,
    HistogramDataPoint,
    Metric,
    MetricReader,
    MetricsData,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
    Sum,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from ricecoder_otel._version import __version__
from ricecoder_otel.kernel.names import known
from ricecoder_otel.metrics.red_aggregator import DURATION_METRIC, ERRORS_METRIC, RedAggregator, SeriesSnapshot

SCOPE = InstrumentationScope("ricecoder_otel.red", __version__)


class RedPublisher:
    """Builds the RED scope for one reader at a time; keeps per-reader delta state."""

    def __init__(self, aggregator: RedAggregator, resource: Resource, clock_ns: Callable[[], int] = time.time_ns):
        self._aggregator = aggregator
        self._resource = resource
        self._clock_ns = clock_ns
        # reader id -> (time of its previous collection, series key -> previous snapshot)
        self._previous: dict[int, tuple[int, dict[tuple[Any, ...], SeriesSnapshot]]] = {}

    def inject(self, metrics_data: MetricsData | None, reader: MetricReader) -> MetricsData | None:
        snapshots = self._aggregator.snapshot()
        if not snapshots:
            return metrics_data
        now = self._clock_ns()
        temporality = _histogram_temporality(reader)
        start = self._aggregator.start_time_ns
        if temporality is AggregationTemporality.DELTA:
            start, previous = self._previous.get(id(reader), (start, {}))
            self._previous[id(reader)] = (now, {_key(s): s for s in snapshots})
            snapshots = [d for d in (_difference(s, previous.get(_key(s))) for s in snapshots) if d.count]
        scope = ScopeMetrics(SCOPE, _metrics(snapshots, self._aggregator.bounds, start, now, temporality), "")
        resource_metrics = list(metrics_data.resource_metrics) if metrics_data is not None else []
        if resource_metrics:
            first = resource_metrics[0]
            resource_metrics[0] = ResourceMetrics(first.resource, [*first.scope_metrics, scope], first.schema_url)
        else:
            resource_metrics = [ResourceMetrics(self._resource, [scope], "")]
        return MetricsData(resource_metrics)


def _key(snapshot: SeriesSnapshot) -> tuple[Any, ...]:
    return tuple(sorted(snapshot.attributes.items()))


def _difference(current: SeriesSnapshot, previous: SeriesSnapshot | None) -> SeriesSnapshot:
    if previous is None:
        return current
    return SeriesSnapshot(
        attributes=current.attributes,
        bucket_counts=tuple(c - p for c, p in zip(current.bucket_counts, previous.bucket_counts, strict=True)),
        count=current.count - previous.count,
        sum=current.sum - previous.sum,
        min=current.min,
        max=current.max,
        errors=current.errors - previous.errors,
        exemplars=tuple(e if e != p else None for e, p in zip(current.exemplars, previous.exemplars, strict=True)),
    )


def _metrics(
    snapshots: list[SeriesSnapshot],
    bounds: tuple[float, ...],
    start: int,
    now: int,
    temporality: AggregationTemporality,
) -> list[Metric]:
    duration_points = [
        HistogramDataPoint(
            attributes=s.attributes,
            start_time_unix_nano=start,
            time_unix_nano=now,
            count=s.count,
            sum=s.sum,
            bucket_counts=list(s.bucket_counts),
            explicit_bounds=list(bounds),
            min=s.min,
            max=s.max,
            exemplars=[
                SdkExemplar({}, value, when, span_id, trace_id)
                for trace_id, span_id, value, when in (e for e in s.exemplars if e is not None)
            ],
        )
        for s in snapshots
    ]
    metrics = [
        Metric(
            DURATION_METRIC,
            known(DURATION_METRIC).description,
            known(DURATION_METRIC).unit,
            Histogram(duration_points, temporality),
        )
    ]
    error_points = [NumberDataPoint(s.attributes, start, now, s.errors) for s in snapshots if s.errors]
    if error_points:
        metrics.append(
            Metric(
                ERRORS_METRIC,
                known(ERRORS_METRIC).description,
                known(ERRORS_METRIC).unit,
                Sum(error_points, temporality, is_monotonic=True),
            )
        )
    return metrics


def _histogram_temporality(reader: MetricReader) -> AggregationTemporality:
    preferred: dict[type, AggregationTemporality] = getattr(reader, "_instrument_class_temporality", {})
    for instrument_class, temporality in preferred.items():
        if instrument_class.__name__.lstrip("_") == "Histogram":
            return temporality
    return AggregationTemporality.CUMULATIVE
