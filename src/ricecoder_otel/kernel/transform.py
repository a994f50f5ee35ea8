"""Transforms applied to spans, log records and metrics on the export path, after the hot path.

A capability that must change what leaves the process (the compliance redaction policy) does it
here, not in a processor: spans are read-only once ended, and work in a log record processor
runs on the application's thread for every record. Every exporter the pipeline builds is
wrapped instead: each transform sees each span, log record or metric collection on the
exporter's background thread, just before the real exporter, and returns the item to send, a
changed copy (never a change in place: several exporters share one record), or None to drop
it. A transform that raises drops the item (fail closed: an item a redaction policy could not
process must not leave unredacted); the drop is counted.

A transform that can decide most items of a batch in one loop (the redaction policy's known-clean
shortcut) also offers ``transform_batch``: one call per export batch instead of one per item. It
returns one result per item and applies :func:`guarded` to each item it processes in full, so a
failure still drops only that item.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.metrics.export import MetricsData
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from ricecoder_otel.kernel.guard import report_once
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY

T = TypeVar("T")
R = TypeVar("R")
SpanTransform = Callable[[ReadableSpan], ReadableSpan | None]
LogTransform = Callable[[ReadableLogRecord], ReadableLogRecord | None]
MetricsTransform = Callable[[MetricsData], MetricsData | None]


def guarded(what: str, transform: Callable[..., R], *args: Any) -> R | None:
    """``transform(*args)``, or None (the item is dropped, the failure counted) when it raises."""
    try:
        return transform(*args)
    except Exception as error:
        SELF_TELEMETRY.count_error("export.transform")
        report_once("export", "a %s transform failed (%s); the %s is dropped", what, type(error).__name__, what)
        return None


def transform_spans(spans: Sequence[ReadableSpan], transforms: Sequence[SpanTransform]) -> list[ReadableSpan]:
    """``spans`` after every transform, without the dropped ones (counted)."""
    return _transform_all(spans, transforms, "span", "spans.transform")


def transform_logs(
    records: Sequence[ReadableLogRecord], transforms: Sequence[LogTransform]
) -> list[ReadableLogRecord]:
    """``records`` after every transform, without the dropped ones (counted)."""
    return _transform_all(records, transforms, "log record", "logs.transform")


def _transform_all(items: Sequence[T], transforms: Sequence[Callable[[T], T | None]], what: str,
                   dropped_as: str) -> list[T]:  # fmt: skip
    """Each transform over the whole batch in turn (the order per item is the same as one item at a
    time: a dropped item reaches no later transform)."""
    kept = list(items)
    for transform in transforms:
        if not kept:
            break
        whole: Callable[[Sequence[T]], list[T | None]] | None = getattr(transform, "transform_batch", None)
        if whole is not None:
            results = _whole_batch(whole, kept, what)
        else:
            results = [guarded(what, transform, item) for item in kept]
        survivors = [result for result in results if result is not None]
        if len(survivors) < len(kept):
            SELF_TELEMETRY.count_drop(dropped_as, len(kept) - len(survivors))
        kept = survivors
    return kept


def _whole_batch(whole: Callable[[Sequence[T]], list[T | None]], items: list[T], what: str) -> list[T | None]:
    """A batch transform's results; a batch transform that fails as a whole, or answers for another
    number of items, drops the batch (fail closed)."""
    results = guarded(what, whole, items)
    if results is None or len(results) != len(items):
        if results is not None:
            SELF_TELEMETRY.count_error("export.transform")
            report_once("export", "a %s transform answered for %d of %d items; the batch is dropped", what,
                        len(results), len(items))  # fmt: skip
        return [None] * len(items)
    return results


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
