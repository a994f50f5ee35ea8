"""Span processor that turns every finished SERVER span into RED metrics.

Deriving the metrics from spans gives the same ``http.server.request.duration``
for every framework, including those whose instrumentation records no metrics.
Duplicates recorded by framework instrumentations are dropped by the views in
:mod:`ricecoder_otel.metrics.views`.

Recording into an SDK histogram costs about as much as the span itself, so
``on_end`` only queues a small tuple; a background drain records the batch,
passing each span's context so exemplars still link the metric to the trace.
Request counts are the histogram's count (``..._count`` in Prometheus); errors
have their own counter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.context import Context
from opentelemetry.metrics import Meter
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, StatusCode, set_span_in_context

from ricecoder_otel.guard import shielded
from ricecoder_otel.metrics.cardinality import CardinalityLimiter
from ricecoder_otel.metrics.red import DEFAULT_DURATION_BUCKETS, red_sample
from ricecoder_otel.worker import BackgroundDrain

DURATION_METRIC = "http.server.request.duration"
ERRORS_METRIC = "ricecoder.http.server.errors"


# (span name, attributes, start ns, end ns, span status is ERROR, span context)
_Finished = tuple[str, Mapping[str, Any], int, int, bool, SpanContext | None]


class RedMetricsProcessor(SpanProcessor):
    """Records duration (and so request counts) and error counts per route, method and status class."""

    def __init__(
        self,
        meter: Meter,
        limiter: CardinalityLimiter,
        buckets: tuple[float, ...] = DEFAULT_DURATION_BUCKETS,
    ) -> None:
        self._limiter = limiter
        self.enabled = True
        self._duration = meter.create_histogram(
            DURATION_METRIC,
            unit="s",
            description="Duration of HTTP server requests, derived from server spans.",
            explicit_bucket_boundaries_advisory=list(buckets),
        )
        self._drain: BackgroundDrain[_Finished] = BackgroundDrain("red_metrics", self._record)
        self._errors = meter.create_counter(
            ERRORS_METRIC, unit="{request}", description="HTTP server requests that failed (5xx or span error)."
        )

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return None

    @shielded("red_metrics", None)
    def on_end(self, span: ReadableSpan) -> None:
        if not self.enabled or span.kind is not SpanKind.SERVER:
            return
        self._drain.offer(
            (
                span.name,
                span.attributes or {},
                span.start_time or 0,
                span.end_time or 0,
                span.status.status_code is StatusCode.ERROR,
                span.context,
            )
        )

    def _record(self, batch: Sequence[_Finished]) -> None:
        for name, attributes, start_ns, end_ns, failed, span_context in batch:
            sample = red_sample(name, attributes, start_ns, end_ns, failed)
            context = set_span_in_context(NonRecordingSpan(span_context)) if span_context is not None else None
            self._duration.record(
                sample.duration_s, self._limiter.admit(DURATION_METRIC, sample.attributes), context=context
            )
            if sample.is_error:
                self._errors.add(1, self._limiter.admit(ERRORS_METRIC, sample.attributes), context=context)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        self._drain.flush()
        return True

    def shutdown(self) -> None:
        self._drain.shutdown()
