"""Self-time attribution is sampled above a rate; percentiles never are."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.trace import SpanKind

from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY
from ricecoder_otel.performance import PerformanceMonitor
from ricecoder_otel.performance.capability import PerformanceCapability
from ricecoder_otel.performance.engine import Operation
from ricecoder_otel.performance.worker import ATTRIBUTED_PER_PASS
from ricecoder_otel.testing import RicecoderCapture
from tests.unit.performance.traces import MS, T0, db, request

ORDERS = Operation("server", "GET /orders")


def performance(capture: RicecoderCapture) -> PerformanceCapability:
    """The capability with its worker thread stopped: the test runs each pass itself (``process_now``)."""
    capability = capture.pipeline.capability("performance")
    assert isinstance(capability, PerformanceCapability) and capability.worker is not None
    capability.worker.stop()
    return capability


def burst(requests: int) -> None:
    for _ in range(requests):  # 100 ms each, 60 of them in the database
        request("/orders", 100, [db(10, 70)])


def test_above_the_rate_a_sample_is_attributed_and_every_duration_is_recorded(
    ricecoder_capture: RicecoderCapture,
) -> None:
    capability = performance(ricecoder_capture)
    monitor = PerformanceMonitor().start()

    burst(1000)  # a burst after a quiet period: the first attributed traces of the pass, capped
    capability.process_now()
    first = monitor.report("server")[0].breakdown
    assert first is not None and first.count == 2 * ATTRIBUTED_PER_PASS

    burst(1000)  # the next pass samples at the ratio the last pass' traffic asks for (50 of 1000)
    capability.process_now()
    [report] = monitor.report("server")
    assert report.breakdown is not None
    second = report.breakdown.count - first.count
    assert 15 <= second <= 2 * ATTRIBUTED_PER_PASS, second

    # Percentiles see every request and every query.
    assert monitor.percentiles(ORDERS).count == 2000
    assert monitor.percentiles(Operation("database", "sqlite SELECT")).count == 2000
    # Every attributed request kept its query: the shares are exact, not diluted by lost children.
    assert report.breakdown.shares() == pytest.approx(
        {"database": 0.6, "http_client": 0, "template": 0, "own_code": 0.4}
    )
    assert report.breakdown.mean_s == pytest.approx(0.1)
    # What was not attributed is counted.
    skipped = 2000 - report.breakdown.count
    assert SELF_TELEMETRY.snapshot().dropped["performance.attribution"] == skipped
    assert capability.worker is not None
    assert (capability.worker.attributed, capability.worker.not_attributed) == (report.breakdown.count, skipped)


def test_under_the_rate_every_trace_is_attributed(ricecoder_capture: RicecoderCapture) -> None:
    capability = performance(ricecoder_capture)
    for _ in range(3):
        burst(ATTRIBUTED_PER_PASS)
        capability.process_now()
    [report] = PerformanceMonitor().start().report("server")
    assert report.breakdown is not None and report.breakdown.count == 3 * ATTRIBUTED_PER_PASS
    assert "performance.attribution" not in SELF_TELEMETRY.snapshot().dropped


def test_a_trace_keeps_its_decision_across_passes(ricecoder_capture: RicecoderCapture) -> None:
    """Children reach the worker a pass before their request ends: the trace is attributed whole or not at all."""
    capability = performance(ricecoder_capture)
    tracer = trace.get_tracer("tests.performance")
    burst(1000)
    capability.process_now()  # the next pass attributes about 1 trace in 20
    servers = []
    for _ in range(400):
        server = tracer.start_span("GET /orders", kind=SpanKind.SERVER, start_time=T0,
                                   attributes={"http.route": "/orders", "http.request.method": "GET"})  # fmt: skip
        query = tracer.start_span("SELECT", context=trace.set_span_in_context(server), kind=SpanKind.CLIENT,
                                  start_time=T0 + 10 * MS, attributes={"db.system": "sqlite"})  # fmt: skip
        query.end(end_time=T0 + 70 * MS)
        servers.append(server)
    capability.process_now()  # only the queries: each trace is decided here
    for server in servers:
        server.end(end_time=T0 + 100 * MS)
    capability.process_now()  # the requests, under a ratio computed from other traffic

    [report] = PerformanceMonitor().start().report("server")
    assert report.breakdown is not None and report.breakdown.count > 2 * ATTRIBUTED_PER_PASS
    assert report.breakdown.shares()["database"] == pytest.approx(0.6)
