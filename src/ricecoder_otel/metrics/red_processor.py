"""Span processor that turns every finished SERVER span into RED metrics.

Deriving the metrics from spans gives the same ``http.server.request.duration``
for every framework, including those whose instrumentation records no metrics.
Duplicates recorded by framework instrumentations are dropped by the views in
:mod:`ricecoder_otel.metrics.views`.

``on_end`` adds the request to a :class:`RedAggregator` (O(1), a short lock);
:mod:`ricecoder_otel.metrics.red_export` publishes the aggregate at each
collection. Request counts are the histogram's count (``..._count`` in
Prometheus); errors have their own counter.
"""

from __future__ import annotations

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import SpanKind, StatusCode

from ricecoder_otel.kernel.guard import shielded
from ricecoder_otel.kernel.span_hooks import span_attributes
from ricecoder_otel.metrics.red_aggregator import RedAggregator


class RedMetricsProcessor(SpanProcessor):
    """Feeds finished server spans to the RED aggregator."""

    def __init__(self, aggregator: RedAggregator) -> None:
        self.aggregator = aggregator
        self.enabled = True

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return None

    def on_end(self, span: ReadableSpan) -> None:
        # Most spans of a request are not server spans (database, HTTP clients, internal):
        # they leave here, before the shielded (timed, error-counting) call.
        if span.kind is SpanKind.SERVER and self.enabled:
            self._record_shielded(span)

    def record(self, span: ReadableSpan) -> None:
        """Add one finished server span. Unguarded: the pipeline calls it through the kernel's
        span hooks, which contain failures (``on_end`` is the guarded entry for direct use)."""
        context = span.context
        sampled = context is not None and context.trace_flags.sampled
        self.aggregator.record(
            span.name,
            span_attributes(span),
            span.start_time or 0,
            span.end_time or 0,
            span.status.status_code is StatusCode.ERROR,
            context.trace_id if sampled else 0,
            context.span_id if sampled else 0,
        )

    _record_shielded = shielded("red_metrics", None)(record)

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True
