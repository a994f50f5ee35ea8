"""Transforms applied to spans and metrics on the export path, after the hot path.

Spans are read-only once ended, so a capability that must change what leaves the process (the
compliance redaction policy) cannot do it in a span processor. Every exporter the pipeline
builds is wrapped here instead: each transform sees each span (or each metric collection) on
the exporter's background thread, just before the real exporter, and returns the item to send,
a changed copy, or None to drop it. A transform that raises drops the item (fail closed: an item
a redaction policy could not process must not leave unredacted); the drop is counted.

Log records are mutable, so capabilities change them with a log record processor instead
(installed before the exporting processors).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from opentelemetry.sdk.metrics.export import MetricsData
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from ricecoder_otel.kernel.guard import report_once
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY

SpanTransform = Callable[[ReadableSpan], ReadableSpan | None]
MetricsTransform = Callable[[MetricsData], MetricsData | None]


def transform_spans(spans: Sequence[ReadableSpan], transforms: Sequence[SpanTransform]) -> list[ReadableSpan]:
    """``spans`` after every transform, without the dropped ones (counted)."""
    if not transforms:
        return list(spans)
    kept: list[ReadableSpan] = []
    for span in spans:
        current = _transform_span(span, transforms)
        if current is None:
            SELF_TELEMETRY.count_drop("spans.transform")
        else:
            kept.append(current)
    return kept


def _transform_span(span: ReadableSpan, transforms: Sequence[SpanTransform]) -> ReadableSpan | None:
    current = span
    for transform in transforms:
        try:
            result = transform(current)
        except Exception as error:
            SELF_TELEMETRY.count_error("export.transform")
            report_once("export", "a span transform failed (%s); the span is dropped", type(error).__name__)
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
