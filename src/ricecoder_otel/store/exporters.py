"""OpenTelemetry exporters that write spans, metrics and logs into the local store.

Registered as the ``ricecoder_local`` exporter of each signal, so
``OTEL_TRACES_EXPORTER=otlp,ricecoder_local`` composes the standard way. The SDK calls
``export`` from its batch processors' worker threads (or the metric reader's), so writing
synchronously is fine; what is not fine is raising into the SDK. A failed write returns
FAILURE, counts the dropped items and logs one warning per distinct problem.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.metrics import (
    Counter,
    Histogram,
    ObservableCounter,
    ObservableGauge,
    ObservableUpDownCounter,
    UpDownCounter,
)
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    ExponentialHistogram,
    Gauge,
    MetricExporter,
    MetricExportResult,
    MetricsData,
    Sum,
)
from opentelemetry.sdk.metrics.export import Histogram as HistogramData
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.util.types import Attributes

from ricecoder_otel.config.secrets import redact_dsn
from ricecoder_otel.kernel.metricdata import walk
from ricecoder_otel.store import Store, get_default_store
from ricecoder_otel.store.errors import StoreError
from ricecoder_otel.store.records import LogRow, MetricPoint, SpanRecord

logger = logging.getLogger("ricecoder_otel.store")

_DROP_TOTALS: dict[str, int] = {"spans": 0, "points": 0, "logs": 0}
_DROP_LOCK = threading.Lock()


def dropped_totals() -> dict[str, int]:
    """Items every local exporter of this process failed to store, by signal (self-telemetry)."""
    with _DROP_LOCK:
        return dict(_DROP_TOTALS)


class _StoreWriter:
    """Resolves the store lazily, counts drops, and warns once per distinct problem."""

    def __init__(self, store: Store | None, signal: str) -> None:
        self._store = store
        self._signal = signal
        self._lock = threading.Lock()
        self._warned: set[tuple[str, str]] = set()
        self.dropped = 0
        self.is_shutdown = False

    def write(
        self,
        items: Sequence[Any],
        convert: Callable[[Sequence[Any]], list[Any]],
        store_rows: Callable[[Store, list[Any]], object],
    ) -> bool:
        """Convert ``items`` and hand the rows to ``store_rows``; on any failure count them as dropped."""
        dropped = len(items)
        store: Store | None = None
        try:
            rows = convert(items)
            dropped = len(rows)
            if self.is_shutdown:
                self._drop(dropped)
                return False
            store = self._store if self._store is not None else get_default_store()
            store_rows(store, rows)
            return True
        except StoreError as exc:
            self._drop(dropped)
            self._warn_once(type(exc).__name__, store, f"cannot store {self._signal}: {exc}")
        except Exception as exc:  # never raise into the SDK's worker
            self._drop(dropped)
            self._warn_once(
                type(exc).__name__, store, f"unexpected error storing {self._signal}: {type(exc).__name__}: {exc}"
            )
        return False

    def _drop(self, n: int) -> None:
        with self._lock:
            self.dropped += n
        with _DROP_LOCK:
            _DROP_TOTALS[self._signal] += n

    def _warn_once(self, kind: str, store: Store | None, message: str) -> None:
        key = (kind, store.display_location if store is not None else "")
        with self._lock:
            if key in self._warned:
                return
            self._warned.add(key)
        logger.warning(
            "%s (further %s of this kind are dropped and counted without another warning)",
            redact_dsn(message),
            self._signal,
        )


def _service_name(resource: Resource | None) -> str:
    if resource is None:
        return ""
    return str(resource.attributes.get("service.name", ""))


def _plain(attributes: Attributes | None) -> dict[str, Any]:
    return dict(attributes) if attributes else {}


# spans ---------------------------------------------------------------------------------
def span_to_record(span: ReadableSpan) -> SpanRecord:
    context = span.context
    trace_id = context.trace_id if context is not None else 0
    span_id = context.span_id if context is not None else 0
    return SpanRecord(
        trace_id=format(trace_id, "032x"),
        span_id=format(span_id, "016x"),
        parent_span_id=format(span.parent.span_id, "016x") if span.parent is not None else None,
        name=span.name,
        kind=span.kind.name,
        start_ns=span.start_time or 0,
        end_ns=span.end_time or span.start_time or 0,
        status_code=span.status.status_code.name,
        status_message=span.status.description or "",
        service_name=_service_name(span.resource),
        attributes=_plain(span.attributes),
        events=[
            {"name": event.name, "time_ns": event.timestamp, "attributes": _plain(event.attributes)}
            for event in span.events
        ],
        resource=_plain(span.resource.attributes) if span.resource is not None else {},
    )


class LocalSpanExporter(SpanExporter):
    """Writes finished spans to the store (the default store unless ``store`` is given)."""

    def __init__(self, store: Store | None = None) -> None:
        self._writer = _StoreWriter(store, "spans")

    @property
    def dropped_spans(self) -> int:
        return self._writer.dropped

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        ok = self._writer.write(
            spans, lambda batch: [span_to_record(s) for s in batch], lambda store, rows: store.write_spans(rows)
        )
        return SpanExportResult.SUCCESS if ok else SpanExportResult.FAILURE

    def shutdown(self) -> None:
        self._writer.is_shutdown = True

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True  # every export is written before it returns


# metrics -------------------------------------------------------------------------------
_CUMULATIVE: dict[type, AggregationTemporality] = {
    instrument: AggregationTemporality.CUMULATIVE
    for instrument in (Counter, UpDownCounter, Histogram, ObservableCounter, ObservableUpDownCounter, ObservableGauge)
}


def metrics_to_points(data: MetricsData) -> list[MetricPoint]:
    """Flatten the SDK's resource/scope/metric tree into one row per data point."""
    return list(_iter_points(data))


def _iter_points(data: MetricsData) -> Iterator[MetricPoint]:
    for resource, metric in walk(data):
        service = _service_name(resource)
        for point in _metric_points(metric.data):
            point.name, point.unit, point.service_name = metric.name, metric.unit or "", service
            yield point


def _metric_points(body: object) -> Iterator[MetricPoint]:
    """Points of one metric, without name, unit and service (the caller fills those)."""
    if isinstance(body, Sum | Gauge):
        kind = "gauge" if isinstance(body, Gauge) else ("counter" if body.is_monotonic else "updowncounter")
        for point in body.data_points:
            yield MetricPoint(
                time_ns=point.time_unix_nano, name="", kind=kind, attributes=_plain(point.attributes),
                value=float(point.value),
            )  # fmt: skip
    elif isinstance(body, HistogramData):
        for hpoint in body.data_points:
            yield MetricPoint(
                time_ns=hpoint.time_unix_nano, name="", kind="histogram", attributes=_plain(hpoint.attributes),
                count=int(hpoint.count), sum=float(hpoint.sum),
                bucket_bounds=[float(b) for b in hpoint.explicit_bounds],
                bucket_counts=[int(c) for c in hpoint.bucket_counts],
            )  # fmt: skip
    elif isinstance(body, ExponentialHistogram):
        for epoint in body.data_points:  # kept as count and sum; exponential buckets are not stored
            yield MetricPoint(
                time_ns=epoint.time_unix_nano, name="", kind="histogram", attributes=_plain(epoint.attributes),
                count=int(epoint.count), sum=float(epoint.sum),
            )  # fmt: skip


class LocalMetricExporter(MetricExporter):
    """Writes each collection's points (cumulative) to the store."""

    def __init__(self, store: Store | None = None) -> None:
        super().__init__(preferred_temporality=_CUMULATIVE)
        self._writer = _StoreWriter(store, "points")

    @property
    def dropped_points(self) -> int:
        return self._writer.dropped

    def export(self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any) -> MetricExportResult:
        ok = self._writer.write(
            [metrics_data],
            lambda batch: metrics_to_points(batch[0]),
            lambda store, rows: store.write_metric_points(rows),
        )
        return MetricExportResult.SUCCESS if ok else MetricExportResult.FAILURE

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        self._writer.is_shutdown = True


# logs ----------------------------------------------------------------------------------
def log_to_row(record: ReadableLogRecord) -> LogRow:
    log = record.log_record
    body = log.body
    severity = log.severity_number
    return LogRow(
        time_ns=log.timestamp or log.observed_timestamp or 0,
        severity_number=severity.value if severity is not None else None,
        severity_text=log.severity_text or "",
        body=body if isinstance(body, str) else ("" if body is None else json.dumps(body, default=str)),
        event_name=log.event_name or "",
        trace_id=format(log.trace_id, "032x") if log.trace_id else None,
        span_id=format(log.span_id, "016x") if log.span_id else None,
        attributes=_plain(log.attributes),
        service_name=_service_name(record.resource),
    )


class LocalLogExporter(LogRecordExporter):
    """Writes log records and events to the store."""

    def __init__(self, store: Store | None = None) -> None:
        self._writer = _StoreWriter(store, "logs")

    @property
    def dropped_logs(self) -> int:
        return self._writer.dropped

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        ok = self._writer.write(
            batch, lambda records: [log_to_row(r) for r in records], lambda store, rows: store.write_logs(rows)
        )
        return LogRecordExportResult.SUCCESS if ok else LogRecordExportResult.FAILURE

    def shutdown(self) -> None:
        self._writer.is_shutdown = True

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True
