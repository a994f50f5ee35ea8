from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.metrics import Histogram as HistogramInstrument
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import AggregationTemporality, InMemoryMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.trace import SpanKind, Status, StatusCode

from ricecoder_otel.kernel.guard import TIMING_SAMPLE
from ricecoder_otel.kernel.reader import gated_pull_reader
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY
from ricecoder_otel.metrics.cardinality import OVERFLOW_ATTRIBUTES, CardinalityLimiter
from ricecoder_otel.metrics.red_aggregator import DURATION_METRIC, ERRORS_METRIC, RedAggregator
from ricecoder_otel.metrics.red_export import RedPublisher
from ricecoder_otel.metrics.red_processor import RedMetricsProcessor
from ricecoder_otel.testing import Capture, metric_points


class Red:
    """A capture whose metric reader publishes the RED metrics, as the pipeline's readers do."""

    def __init__(self, limit: int = 100, temporality: AggregationTemporality | None = None) -> None:
        self.capture = Capture()
        self.processor = RedMetricsProcessor(RedAggregator(CardinalityLimiter(limit)))
        self.capture.tracer_provider.add_span_processor(self.processor)
        publisher = RedPublisher(self.processor.aggregator, Resource.create({}))
        kwargs: dict[str, Any] = {"preferred_temporality": {HistogramInstrument: temporality}} if temporality else {}
        self.reader = gated_pull_reader(InMemoryMetricReader, [publisher], **kwargs)
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    def serve(self, route: str, status: int, kind: SpanKind = SpanKind.SERVER, error: bool = False) -> None:
        tracer = self.capture.tracer_provider.get_tracer("test")
        with tracer.start_as_current_span(f"GET {route}", kind=kind) as span:
            span.set_attribute("http.route", route)
            span.set_attribute("http.request.method", "GET")
            span.set_attribute("http.response.status_code", status)
            if error:
                span.set_status(Status(StatusCode.ERROR))

    def metric(self, name: str) -> list[tuple[dict[str, Any], Any]]:
        return metric_points(self.reader, name)


@pytest.fixture
def red() -> Iterator[Red]:
    harness = Red()
    yield harness
    harness.meter_provider.shutdown()


def test_server_spans_become_duration_histograms_and_error_counts(red: Red) -> None:
    for status in (200, 200, 503):
        red.serve("/products", status)
    red.serve("/products", 200, kind=SpanKind.CLIENT)  # not a server request

    durations = red.metric(DURATION_METRIC)
    assert sum(p.count for _, p in durations) == 3
    ok = next(p for a, p in durations if a["http.response.status_class"] == "2xx")
    assert ok.count == 2 and sum(ok.bucket_counts) == 2
    # The exported sum, min and max are the spans' own durations, in seconds.
    finished = red.capture.spans.get_finished_spans()
    ok_durations = [
        ((s.end_time or 0) - (s.start_time or 0)) / 1e9
        for s in finished
        if s.kind is SpanKind.SERVER and (s.attributes or {}).get("http.response.status_code") == 200
    ]
    assert len(ok_durations) == 2
    assert ok.sum == pytest.approx(sum(ok_durations), rel=1e-9, abs=1e-12)
    assert ok.min == pytest.approx(min(ok_durations)) and ok.max == pytest.approx(max(ok_durations))
    assert 0 < ok.min <= ok.max < 1
    # Sensible seconds buckets, not the SDK's millisecond defaults.
    assert ok.explicit_bounds[0] == pytest.approx(0.005) and ok.explicit_bounds[-1] == pytest.approx(10.0)
    requests = {a["http.response.status_class"]: p.count for a, p in durations}
    assert requests == {"2xx": 2, "5xx": 1}
    # Exemplars link the metric to the trace of the request.
    trace_ids = {s.context.trace_id for s in finished}
    assert ok.exemplars and ok.exemplars[0].trace_id in trace_ids
    errors = red.metric(ERRORS_METRIC)
    assert [(a["http.route"], a["error.type"], p.value) for a, p in errors] == [("/products", "503", 1)]


def test_cumulative_readers_keep_counting(red: Red) -> None:
    red.serve("/a", 200)
    assert [p.count for _, p in red.metric(DURATION_METRIC)] == [1]
    red.serve("/a", 200)
    assert [p.count for _, p in red.metric(DURATION_METRIC)] == [2]


def test_delta_readers_get_what_happened_since_their_last_collection() -> None:
    red = Red(temporality=AggregationTemporality.DELTA)
    red.serve("/a", 200)
    red.serve("/a", 200)
    [(_, first)] = red.metric(DURATION_METRIC)
    assert first.count == 2
    red.serve("/a", 200)
    [(_, second)] = red.metric(DURATION_METRIC)
    assert second.count == 1 and second.start_time_unix_nano == first.time_unix_nano
    assert red.metric(DURATION_METRIC) == []  # nothing new


def test_span_status_error_counts_even_with_a_2xx(red: Red) -> None:
    red.serve("/checkout", 200, error=True)
    assert [p.value for _, p in red.metric(ERRORS_METRIC)] == [1]


def test_route_cardinality_is_limited_with_an_overflow_series() -> None:
    red = Red(limit=3)
    for n in range(10):
        red.serve(f"/raw/{n}", 200)
    points = red.metric(DURATION_METRIC)
    assert len(points) == 4
    overflow = [p for a, p in points if a == dict(OVERFLOW_ATTRIBUTES)]
    assert overflow[0].count == 7


def test_disabled_processor_records_nothing(red: Red) -> None:
    red.processor.enabled = False
    red.serve("/products", 200)
    assert red.metric(DURATION_METRIC) == []


def test_a_broken_span_never_reaches_the_app(red: Red) -> None:
    SELF_TELEMETRY.reset()

    class Broken:
        kind = SpanKind.SERVER

        @property
        def attributes(self) -> dict[str, object]:
            raise RuntimeError("boom")

    for _ in range(TIMING_SAMPLE):
        red.processor.on_end(Broken())  # type: ignore[arg-type]
    assert SELF_TELEMETRY.snapshot().errors == {"red_metrics": TIMING_SAMPLE}
    assert SELF_TELEMETRY.snapshot().processor_time_ns["red_metrics"] > 0  # sampled: one call in TIMING_SAMPLE


def test_sdk_spans_are_read_through_their_fields_and_other_spans_through_their_properties(red: Red) -> None:
    tracer = red.capture.tracer_provider.get_tracer("test")
    with tracer.start_as_current_span("GET /fields", kind=SpanKind.SERVER) as live:
        live.set_attribute("http.route", "/fields")
        live.set_status(Status(StatusCode.ERROR))
    finished = red.capture.spans.get_finished_spans()[-1]
    # The fields the processor reads are the ones behind the SDK's public properties.
    assert (finished._context, finished._name, finished._start_time, finished._end_time) == (
        finished.context,
        finished.name,
        finished.start_time,
        finished.end_time,
    )
    assert finished._status._status_code is finished.status.status_code is StatusCode.ERROR

    class PropertiesOnly:
        """A ReadableSpan look-alike without the SDK's fields (another SDK, a test double)."""

        kind = SpanKind.SERVER
        context = finished.context
        name = "GET /other"
        start_time = finished.start_time
        end_time = finished.end_time
        status = Status(StatusCode.ERROR)
        attributes = {"http.route": "/other", "http.response.status_code": 200}

    red.processor.on_end(PropertiesOnly())  # type: ignore[arg-type]
    counts = {dict(attributes)["http.route"]: point.count for attributes, point in red.metric(DURATION_METRIC)}
    assert counts == {"/fields": 1, "/other": 1}
    errors = {dict(attributes)["http.route"]: point.value for attributes, point in red.metric(ERRORS_METRIC)}
    assert errors == {"/fields": 1, "/other": 1}
