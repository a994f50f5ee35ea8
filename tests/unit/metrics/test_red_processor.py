import pytest
from opentelemetry.trace import SpanKind, Status, StatusCode

from ricecoder_otel.metrics.cardinality import OVERFLOW_ATTRIBUTES, CardinalityLimiter
from ricecoder_otel.metrics.red_processor import DURATION_METRIC, ERRORS_METRIC, RedMetricsProcessor
from ricecoder_otel.selftelemetry import SELF_TELEMETRY
from ricecoder_otel.testing import Capture


@pytest.fixture
def capture() -> Capture:
    return Capture()


def _serve(capture: Capture, route: str, status: int, kind: SpanKind = SpanKind.SERVER, error: bool = False) -> None:
    tracer = capture.tracer_provider.get_tracer("test")
    with tracer.start_as_current_span(f"GET {route}", kind=kind) as span:
        span.set_attribute("http.route", route)
        span.set_attribute("http.request.method", "GET")
        span.set_attribute("http.response.status_code", status)
        if error:
            span.set_status(Status(StatusCode.ERROR))


def _processor(capture: Capture, limit: int = 100) -> RedMetricsProcessor:
    red = RedMetricsProcessor(capture.meter_provider.get_meter("red"), CardinalityLimiter(limit))
    capture.tracer_provider.add_span_processor(red)
    return red


def test_server_spans_become_duration_requests_and_errors(capture: Capture) -> None:
    red = _processor(capture)
    for status in (200, 200, 503):
        _serve(capture, "/products", status)
    _serve(capture, "/products", 200, kind=SpanKind.CLIENT)  # not a server request
    red.force_flush()

    durations = capture.metric(DURATION_METRIC)
    assert sum(p.count for _, p in durations) == 3
    ok = next(p for a, p in durations if a["http.response.status_class"] == "2xx")
    assert ok.count == 2
    # Sensible seconds buckets, not the SDK's millisecond defaults.
    assert ok.explicit_bounds[0] == pytest.approx(0.005) and ok.explicit_bounds[-1] == pytest.approx(10.0)

    requests = {a["http.response.status_class"]: p.count for a, p in durations}
    assert requests == {"2xx": 2, "5xx": 1}
    # Exemplars link the metric to the trace of the request.
    trace_ids = {s.context.trace_id for s in capture.spans.get_finished_spans()}
    assert ok.exemplars and ok.exemplars[0].trace_id in trace_ids
    errors = capture.metric(ERRORS_METRIC)
    assert [(a["http.route"], a["error.type"], p.value) for a, p in errors] == [("/products", "503", 1)]


def test_span_status_error_counts_even_with_a_2xx(capture: Capture) -> None:
    red = _processor(capture)
    _serve(capture, "/checkout", 200, error=True)
    red.force_flush()
    assert [p.value for _, p in capture.metric(ERRORS_METRIC)] == [1]


def test_route_cardinality_is_limited_with_an_overflow_series(capture: Capture) -> None:
    red = _processor(capture, limit=3)
    for n in range(10):
        _serve(capture, f"/raw/{n}", 200)
    red.force_flush()
    points = capture.metric(DURATION_METRIC)
    assert len(points) == 4
    overflow = [p for a, p in points if a == dict(OVERFLOW_ATTRIBUTES)]
    assert overflow[0].count == 7


def test_disabled_processor_records_nothing(capture: Capture) -> None:
    red = _processor(capture)
    red.enabled = False
    _serve(capture, "/products", 200)
    red.force_flush()
    assert capture.metric(DURATION_METRIC) == []


def test_a_broken_span_never_reaches_the_app(capture: Capture) -> None:
    red = _processor(capture)

    class Broken:
        kind = SpanKind.SERVER

        @property
        def attributes(self) -> dict[str, object]:
            raise RuntimeError("boom")

    red.on_end(Broken())  # type: ignore[arg-type]
    assert SELF_TELEMETRY.snapshot().errors == {"red_metrics": 1}
    assert SELF_TELEMETRY.snapshot().processor_time_ns["red_metrics"] > 0


def test_the_hot_path_only_queues_and_a_full_queue_drops_and_counts(capture: Capture) -> None:
    red = _processor(capture)
    red._drain._max_queue = 2
    for _ in range(5):
        _serve(capture, "/products", 200)
    assert SELF_TELEMETRY.snapshot().dropped == {"red_metrics": 3}
    red.force_flush()
    assert sum(p.count for _, p in capture.metric(DURATION_METRIC)) == 2
