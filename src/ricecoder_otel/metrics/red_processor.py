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

from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import SpanContext, SpanKind, StatusCode, TraceFlags

from ricecoder_otel.kernel.guard import shielded
from ricecoder_otel.kernel.span_hooks import span_attributes
from ricecoder_otel.metrics.red_aggregator import RedAggregator

_ERROR = StatusCode.ERROR
_SAMPLED = TraceFlags.SAMPLED


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
        span hooks, which contain failures (``on_end`` is the guarded entry for direct use).

        Reads the SDK span's fields directly: its public properties cost as much again as the
        aggregation itself, on the application thread, for every request. A finished span never
        changes; any other ``ReadableSpan`` is read through the properties
        (``test_red_processor`` fails if the SDK renames the fields).
        """
        raw: Any = span
        try:
            attributes = raw._attributes._dict
            context = raw._context
        except AttributeError:
            attributes = context = None
        # A SpanContext is a tuple (trace id, span id, remote, flags, ...): indexing it skips three
        # property calls (test_span_shortcut.py::test_the_sdk_keeps_what_the_hot_paths_read_where_they_read_it
        # fails if the API changes its layout). The exemplar's ids only when the span is sampled.
        if type(attributes) is dict and type(context) is SpanContext:
            sampled = context[3] & _SAMPLED
            self.aggregator.record(raw._name, attributes, raw._start_time or 0, raw._end_time or 0,
                                   raw._status._status_code is _ERROR,
                                   context[0] if sampled else 0, context[1] if sampled else 0)  # fmt: skip
            return
        context = span.context
        sampled = context is not None and context.trace_flags & _SAMPLED
        trace_id, span_id = (context.trace_id, context.span_id) if sampled else (0, 0)
        self.aggregator.record(span.name, span_attributes(span), span.start_time or 0, span.end_time or 0,
                               span.status.status_code is _ERROR, trace_id, span_id)  # fmt: skip

    _record_shielded = shielded("red_metrics", None)(record)

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True
