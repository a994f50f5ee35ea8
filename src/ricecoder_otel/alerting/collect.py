"""Collect only the metrics the rules read, instead of every instrument of the process.

The SDK's ``MetricReader.collect()`` runs every observable callback and reads every stream.
Under ``opentelemetry-instrument`` the system-metrics callbacks alone (psutil, a walk of every
socket of the host among them) cost 70-160 ms of CPU per collection, and the alerting loop
collects each second. :func:`collect_streams` does what ``collect()`` does, restricted to the
streams whose name is wanted: the callbacks of the observable instruments behind them, then
those streams' points, under the same locks in the same order as the SDK (the measurement
consumer's, then the reader storage's).

It reaches into SDK internals (opentelemetry-sdk 1.45: ``SynchronousMeasurementConsumer`` and
``MetricReaderStorage``). When they are not what it expects it raises :class:`Unsupported`,
and the reader falls back to a full ``collect()``: slower, same result.
"""

from __future__ import annotations

from collections.abc import Collection
from time import time_ns
from typing import Any

from opentelemetry.metrics import CallbackOptions
from opentelemetry.sdk.metrics import Counter, ObservableCounter
from opentelemetry.sdk.metrics._internal.aggregation import (
    _ExplicitBucketHistogramAggregation,
    _LastValueAggregation,
    _SumAggregation,
)
from opentelemetry.sdk.metrics.export import (
    Gauge,
    Histogram,
    Metric,
    MetricReader,
    MetricsData,
    ResourceMetrics,
    ScopeMetrics,
    Sum,
)


class Unsupported(Exception):
    """The SDK's internals are not the ones this module knows."""


def collect_streams(reader: MetricReader, names: Collection[str]) -> MetricsData | None:
    """The current points of the streams named ``names`` that ``reader`` holds (None when there are none)."""
    consumer = getattr(getattr(reader, "_collect", None), "__self__", None)
    storages = getattr(consumer, "_reader_storages", None)
    if consumer is None or not isinstance(storages, dict) or reader not in storages:
        raise Unsupported("the reader is not registered with an SDK measurement consumer")
    storage: Any = storages[reader]
    try:
        with consumer._lock:
            _observe(consumer, storage, names)
            with storage._lock:
                matches = list(storage._instrument_view_instrument_matches.items())
                return _metrics_data(storage, matches, names)
    except AttributeError as error:
        raise Unsupported(str(error)) from None


def _observe(consumer: Any, storage: Any, names: Collection[str]) -> None:
    """Run the callbacks of the observable instruments behind a wanted stream (by instrument or view name)."""
    known = storage._instrument_view_instrument_matches
    for instrument in list(consumer._async_instruments):
        streams = {m._name for m in known.get(instrument, ())} | {instrument.name}
        if streams.isdisjoint(names):
            continue
        sampler = consumer._sdk_config.exemplar_filter
        for measurement in instrument.callback(CallbackOptions()):
            sample = sampler.should_sample(measurement.value, measurement.time_unix_nano, measurement.attributes,
                                           measurement.context)  # fmt: skip
            storage.consume_measurement(measurement, sample)


def _metrics_data(storage: Any, matches: list[tuple[Any, list[Any]]], names: Collection[str]) -> MetricsData | None:
    started = time_ns()
    scopes: dict[Any, list[Metric]] = {}
    for instrument, streams in matches:
        temporality = storage._instrument_class_temporality[instrument.__class__]
        for match in streams:
            if match._name not in names:
                continue
            aggregation = match._aggregation
            points = match.collect(temporality, started)
            if points is None:
                continue
            data: Sum | Gauge | Histogram
            if isinstance(aggregation, _SumAggregation):
                monotonic = isinstance(instrument, Counter | ObservableCounter)
                data = Sum(data_points=points, aggregation_temporality=temporality, is_monotonic=monotonic)
            elif isinstance(aggregation, _LastValueAggregation):
                data = Gauge(data_points=points)
            elif isinstance(aggregation, _ExplicitBucketHistogramAggregation):
                data = Histogram(data_points=points, aggregation_temporality=temporality)
            else:
                continue  # dropped or exponential streams: no rule reads them
            metric = Metric(name=match._name, description=match._description, unit=instrument.unit, data=data)
            scopes.setdefault(instrument.instrumentation_scope, []).append(metric)
    if not scopes:
        return None
    resource = storage._sdk_config.resource
    scope_metrics = [ScopeMetrics(scope=scope, metrics=metrics, schema_url=scope.schema_url)
                     for scope, metrics in scopes.items()]  # fmt: skip
    return MetricsData(resource_metrics=[ResourceMetrics(resource=resource, scope_metrics=scope_metrics,
                                                         schema_url=resource.schema_url)])  # fmt: skip
