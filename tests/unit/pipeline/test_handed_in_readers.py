"""A metric reader handed to ``build_pipeline`` sees what the pipeline's own readers see."""

from __future__ import annotations

from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.trace import SpanKind

from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.kernel.names import REQUEST_DURATION, SERVER_ERRORS
from ricecoder_otel.metrics.capability import MetricsCapability
from ricecoder_otel.pipeline import build_pipeline
from ricecoder_otel.testing import points_in


def test_a_handed_in_reader_gets_red_metrics_and_the_redaction_policy() -> None:
    reader = InMemoryMetricReader()
    pipeline = build_pipeline(
        MonitoringConfig(), set_global=False, span_exporters=[], log_exporters=[], metric_readers=[reader],
        watch_config=False,
    )  # fmt: skip
    try:
        tracer = pipeline.tracer_provider.get_tracer("t")
        for status in (200, 503):
            attributes = {"http.route": "/orders", "http.response.status_code": status}
            tracer.start_span("GET /orders", kind=SpanKind.SERVER, attributes=attributes).end()
        counter = pipeline.meter_provider.get_meter("app").create_counter("app.signups")
        counter.add(1, {"user.email": "ann@example.com"})
        data = reader.get_metrics_data()
    finally:
        pipeline.shutdown()
    durations = points_in(data, REQUEST_DURATION)
    assert sorted(a["http.response.status_code"] for a, _ in durations) == [200, 503]
    assert all(p.count == 1 for _, p in durations)
    [(errors, point)] = points_in(data, SERVER_ERRORS)
    assert errors["http.response.status_code"] == 503 and point.value == 1
    [(signup, _)] = points_in(data, "app.signups")
    assert "ann@example.com" not in str(signup.values())


def test_a_handed_in_reader_collects_red_metrics_when_the_sdk_has_nothing_of_its_own() -> None:
    reader = InMemoryMetricReader()
    pipeline = build_pipeline(
        MonitoringConfig(), set_global=False, span_exporters=[], log_exporters=[], metric_readers=[reader],
        capabilities=[MetricsCapability()], watch_config=False,  # no SDK instrument exists at all
    )  # fmt: skip
    try:
        span = pipeline.tracer_provider.get_tracer("t").start_span(
            "GET /", kind=SpanKind.SERVER, attributes={"http.route": "/", "http.response.status_code": 200}
        )
        span.end()
        data = reader.get_metrics_data()
    finally:
        pipeline.shutdown()
    assert [p.count for _, p in points_in(data, REQUEST_DURATION)] == [1]
