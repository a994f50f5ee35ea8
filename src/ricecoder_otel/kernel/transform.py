"""Transforms applied to spans, log records and metrics on the export path, after the hot path.

A capability that must change what leaves the process (the compliance redaction policy) does it
here, not in a processor: spans are read-only once ended, and work in a log record processor
runs on the application's thread for every record. Every exporter the pipeline builds is
wrapped instead: each transform sees each span, log record or metric collection on the
exporter's background thread, just before the real exporter, and returns the item to send, a
changed copy (never a change in place: several exporters share one record), or None to drop
it. A transform that raises drops the item (fail closed: an item a redaction policy could not
process must not leave unredacted); the drop is counted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.metrics.export import MetricsData
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from ricecoder_otel.kernel.guard import report_once
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY

T = TypeVar("T")
SpanTransform = Callable[[ReadableSpan], ReadableSpan | None]
LogTransform = Callable[[ReadableLogRecord], ReadableLogRecord | None]
MetricsTransform = Callable[[MetricsData], MetricsData | None]


def transform_spans(spans: Sequence[ReadableSpan], transforms: Sequence[SpanTransform]) -> list[ReadableSpan]:
    """``spans`` after every transform, without the dropped ones (counted)."""
    if not transforms:
        return list(spans)
    kept: list[ReadableSpan] = []
    for span in spans:
        current = _transformed(span, transforms, "span")
        if current is None:
            SELF_TELEMETRY.count_drop("spans.transform")
        else:
            kept.append(current)
    return kept


def transform_logs(
    records: Sequence[ReadableLogRecord], transforms: Sequence[LogTransform]
) -> list[ReadableLogRecord]:
    """``records`` after every transform, without the dropped ones (counted)."""
    if not transforms:
        return list(records)
    kept: list[ReadableLogRecord] = []
    for record in records:
        current = _transformed(record, transforms, "log record")
        if current is None:
            SELF_TELEMETRY.count_drop("logs.transform")
        else:
            kept.append(current)
    return kept


def _transformed(item: T, transforms: Sequence[Callable[[T], T | None]], what: str) -> T | None:
    current = item
    for transform in transforms:
        try:
            result = transform(current)
        except Exception as error:
            SELF_TELEMETRY.count_error("export.transform")
            report_once("export", "a %s transform failed (%s); the %s is dropped", what, type(error).__name__, what)
            return None
        if result is None:
            return None
        current = result
    return current


def transform_metrics(data: MetricsData | None, transforms: Sequence[MetricsTransform]) -> MetricsData | None:
    """A collection after every transform (None: nothing to export)."""
    for transform in transforms:
        if data is None:
            return None
        try:
            data = transform(data)
        except Exception as error:
            SELF_TELEMETRY.count_error("export.transform")
            report_once("export", "a metrics transform failed (%s); the collection is dropped", type(error).__name__)
            SELF_TELEMETRY.count_drop("metrics.transform")
            return None
    return data


class TransformingSpanExporter(SpanExporter):
    """Applies the pipeline's span transforms (a shared, live list) before the real exporter."""

    def __init__(self, inner: SpanExporter, transforms: Sequence[SpanTransform]) -> None:
        self.inner = inner
        self._transforms = transforms

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        kept = transform_spans(spans, self._transforms)
        return self.inner.export(kept) if kept else SpanExportResult.SUCCESS

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.inner.force_flush(timeout_millis)

    def shutdown(self) -> None:
        self.inner.shutdown()


class TransformingLogExporter(LogRecordExporter):
    """Applies the pipeline's log transforms (a shared, live list) before the real exporter."""

    def __init__(self, inner: LogRecordExporter, transforms: Sequence[LogTransform]) -> None:
        self.inner = inner
        self._transforms = transforms

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        kept = transform_logs(batch, self._transforms)
        return self.inner.export(kept) if kept else LogRecordExportResult.SUCCESS

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.inner.force_flush(timeout_millis)

    def shutdown(self) -> None:
        self.inner.shutdown()  # type: ignore[no-untyped-call]
