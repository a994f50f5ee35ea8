"""Span processor that turns every finished SERVER span into RED metrics.

Deriving the metrics from spans gives the same ``http.server.request.duration``
for every framework, including those whose instrumentation records no metrics.
Duplicates recorded by framework instrumentations are dropped by the views in
:mod:`ricecoder_otel.metrics.views`.
"""

from __future__ import annotations

from opentelemetry.context import Context
from opentelemetry.metrics import Meter
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import SpanKind, StatusCode

from ricecoder_otel.guard import shielded
from ricecoder_otel.metrics.cardinality import CardinalityLimiter
from ricecoder_otel.metrics.red import DEFAULT_DURATION_BUCKETS, red_sample

DURATION_METRIC = "http.server.request.duration"
REQUESTS_METRIC = "ricecoder.http.server.requests"
ERRORS_METRIC = "ricecoder.http.server.errors"


class RedMetricsProcessor(SpanProcessor):
    """Records duration, request count and error count per route, method and status class."""

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
        self._requests = meter.create_counter(
            REQUESTS_METRIC, unit="{request}", description="HTTP server requests by route, method and status class."
        )
        self._errors = meter.create_counter(
            ERRORS_METRIC, unit="{request}", description="HTTP server requests that failed (5xx or span error)."
        )

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return None

    @shielded("red_metrics", None)
    def on_end(self, span: ReadableSpan) -> None:
        if not self.enabled or span.kind is not SpanKind.SERVER:
            return
        sample = red_sample(
            span.name,
            span.attributes or {},
            span.start_time or 0,
            span.end_time or 0,
            span.status.status_code is StatusCode.ERROR,
        )
        duration_attrs = self._limiter.admit(DURATION_METRIC, sample.attributes)
        self._duration.record(sample.duration_s, duration_attrs)
        self._requests.add(1, self._limiter.admit(REQUESTS_METRIC, sample.attributes))
        if sample.is_error:
            self._errors.add(1, self._limiter.admit(ERRORS_METRIC, sample.attributes))

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True
