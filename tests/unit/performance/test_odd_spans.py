"""Spans the application shapes oddly (a name or tracer name that is not text, float or bool times,
attribute values of any type) are analysed like the others: no pass of the worker fails, every duration is counted."""

from __future__ import annotations

from typing import Any

from opentelemetry.trace import SpanKind

from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY
from ricecoder_otel.performance import PerformanceMonitor
from ricecoder_otel.performance.capability import PerformanceCapability
from ricecoder_otel.testing import RicecoderCapture

ODD_VALUES: list[Any] = [7, 2.5, True, b"\xff\xfe", ("a", "b"), "", "caf\u00e9 \udcff"]


def test_odd_names_scopes_and_attribute_values_are_analysed_without_a_failed_pass(
    ricecoder_capture: RicecoderCapture,
) -> None:
    capability = ricecoder_capture.pipeline.capability("performance")
    assert isinstance(capability, PerformanceCapability) and capability.worker is not None
    capability.worker.stop()
    SELF_TELEMETRY.reset()
    provider = ricecoder_capture.pipeline.tracer_provider
    odd_tracer: Any = provider.get_tracer(42)  # type: ignore[arg-type]
    tracers = [provider.get_tracer("shop"), odd_tracer]
    names: list[Any] = ["GET /odd", 404, None]
    # times as the API lets them through: ints, floats, a bool
    starts: list[Any] = [1_000, 1_000.5, True]
    ends: list[Any] = [5_000_000, 9e6, 2_000_000]
    spans = 0
    for tracer in tracers:
        for name in names:
            for value in ODD_VALUES:
                for kind in (SpanKind.SERVER, SpanKind.CLIENT, SpanKind.INTERNAL):
                    attributes = {
                        "http.route": value, "http.request.method": value, "http.method": value, "db.system": value,
                        "db.operation.name": value, "server.address": value, "operation": value,
                    }  # fmt: skip
                    with tracer.start_as_current_span("parent", kind=SpanKind.SERVER):
                        span = tracer.start_span(name, kind=kind, attributes=attributes, start_time=starts[spans % 3])
                        span.end(end_time=ends[spans % 3])
                        spans += 1
    capability.process_now()

    assert "performance" not in SELF_TELEMETRY.snapshot().errors
    monitor = PerformanceMonitor().start()
    server_requests = sum(monitor.percentiles(report.operation).count for report in monitor.report("server"))
    assert server_requests == spans + spans // 3  # every parent, and the odd spans of kind SERVER
