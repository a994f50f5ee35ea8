"""Hot-path shape of the RED processor: what it skips cheaply, and what it still records."""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanKind

from ricecoder_otel.metrics.cardinality import CardinalityLimiter
from ricecoder_otel.metrics.red_aggregator import RedAggregator
from ricecoder_otel.metrics.red_processor import RedMetricsProcessor


class CountingAggregator(RedAggregator):
    def __init__(self) -> None:
        super().__init__(CardinalityLimiter(100))
        self.calls = 0

    def record(self, *args: Any, **kwargs: Any) -> None:
        self.calls += 1
        super().record(*args, **kwargs)


def test_only_server_spans_reach_the_aggregator() -> None:
    aggregator = CountingAggregator()
    provider = TracerProvider()
    provider.add_span_processor(RedMetricsProcessor(aggregator))
    tracer = provider.get_tracer("t")
    for kind in (SpanKind.CLIENT, SpanKind.INTERNAL, SpanKind.PRODUCER, SpanKind.CONSUMER, SpanKind.SERVER):
        with tracer.start_as_current_span("GET /a", kind=kind) as span:
            span.set_attribute("http.route", "/a")
            span.set_attribute("http.response.status_code", 200)
    assert aggregator.calls == 1
    [series] = aggregator.snapshot()
    assert series.count == 1


def test_a_clock_that_went_backwards_records_zero_seconds() -> None:
    aggregator = RedAggregator(CardinalityLimiter(100))
    aggregator.record("GET /a", {"http.route": "/a", "http.response.status_code": 200}, 5_000, 1_000, False)
    [series] = aggregator.snapshot()
    assert (series.count, series.sum, series.bucket_counts[0]) == (1, 0.0, 1)
