"""Per-route latency and error rate from the RED metrics feed the anomaly detectors."""

from __future__ import annotations

import random

from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from ricecoder_otel.alerting.otel import EVENT_NAME as ALERT_EVENT
from ricecoder_otel.anomaly.capability import AnomalyCapability
from ricecoder_otel.anomaly.otel import EVENT_NAME
from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.pipeline import Pipeline, build_pipeline


def _window(pipeline: Pipeline, start_ns: int, latencies_s: list[float], failures: int = 0) -> set[str]:
    tracer = pipeline.tracer_provider.get_tracer("test")
    trace_ids = set()
    for n, latency in enumerate(latencies_s):
        span = tracer.start_span("GET /orders", kind=SpanKind.SERVER, start_time=start_ns)
        span.set_attribute("http.route", "/orders")
        span.set_attribute("http.request.method", "GET")
        span.set_attribute("http.response.status_code", 500 if n < failures else 200)
        if n < failures:
            span.set_status(Status(StatusCode.ERROR))
        trace_ids.add(f"{span.get_span_context().trace_id:032x}")
        span.end(end_time=start_ns + int(latency * 1e9))
    return trace_ids


def test_a_latency_spike_on_a_route_becomes_one_anomaly_event_with_an_exemplar_and_an_alert() -> None:
    rule = {"name": "latency-anomaly", "kind": "anomaly", "metric": "http.server.request.duration",
            "operator": ">=", "threshold": 0.5, "for": "15s", "severity": "critical"}
    config = MonitoringConfig.model_validate({"alerting": {"rules": [rule]}})
    logs = InMemoryLogRecordExporter()
    now = [1_700_000_000.0]
    pipeline = build_pipeline(
        config, set_global=False, span_exporters=[], metric_readers=[], log_exporters=[logs],
        clock=lambda: now[0], watch_config=False,
    )
    anomaly = pipeline.capability("anomaly")
    assert isinstance(anomaly, AnomalyCapability) and anomaly.monitor is not None
    rng = random.Random(3)
    try:
        for _ in range(120):  # 20 minutes of healthy 10-second windows
            now[0] += 10
            _window(pipeline, int(now[0] * 1e9), [rng.lognormvariate(-3.0, 0.2) for _ in range(8)])
            pipeline.force_flush()
        slow_traces: set[str] = set()
        for _ in range(3):  # the route slows down twentyfold
            now[0] += 10
            slow_traces |= _window(pipeline, int(now[0] * 1e9), [rng.uniform(0.9, 1.1) for _ in range(8)])
            pipeline.force_flush()
    finally:
        pipeline.shutdown()

    events = [r.log_record for r in logs.get_finished_logs() if r.log_record.event_name == EVENT_NAME]
    series = "http.server.request.duration{http.route=/orders}"
    latency_events = [e for e in events if e.attributes["ricecoder.anomaly.series"] == series]
    assert len(latency_events) == 1, [e.body for e in events]
    event = latency_events[0]
    assert event.attributes["ricecoder.anomaly.observed"] > event.attributes["ricecoder.anomaly.expected_high"]
    assert event.attributes["ricecoder.anomaly.exemplar.trace_id"] in slow_traces
    # The anomaly alert rule fired once the score had stayed high for its 15 s hold.
    alerts = [r.log_record for r in logs.get_finished_logs() if r.log_record.event_name == ALERT_EVENT]
    assert [(a.attributes["ricecoder.alert.state"], a.attributes["ricecoder.alert.series"]) for a in alerts] == [
        ("firing", series)
    ]
    assert alerts[0].attributes["ricecoder.alert.severity"] == "critical"
    scores = anomaly.monitor.scores()
    assert scores[series] > 0.5
    assert "http.server.error_rate{http.route=/orders}" in scores


def test_process_cpu_and_memory_are_one_series_each() -> None:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

    from ricecoder_otel.anomaly.feed import AnomalyFeedExporter
    from ricecoder_otel.anomaly.monitor import AnomalyMonitor

    fed: list[tuple[str, float]] = []

    class Recording(AnomalyMonitor):
        def observe(self, key, value, timestamp=None, trace_id=None):  # type: ignore[no-untyped-def]
            fed.append((key, value))
            return 0.0

    reader = PeriodicExportingMetricReader(AnomalyFeedExporter(Recording()), export_interval_millis=10**9)
    provider = MeterProvider(metric_readers=[reader])
    meter = provider.get_meter("system")
    for name in ("process.cpu.utilization", "process.runtime.cpython.cpu.utilization"):
        gauge = meter.create_gauge(name)
        gauge.set(0.25, {"cpu.mode": "user"})
        gauge.set(0.5, {"cpu.mode": "system"})
    meter.create_gauge("process.memory.usage").set(1000.0)
    provider.shutdown()  # one final collection
    assert sorted(fed) == [("process.cpu.utilization", 0.75), ("process.memory.usage", 1000.0)]


def test_the_feed_taps_the_exporting_reader_and_has_its_own_only_without_one() -> None:
    from ricecoder_otel.metrics.capability import MetricsCapability
    from ricecoder_otel.testing import InMemoryMetricExporter

    tapped = build_pipeline(MonitoringConfig(), set_global=False, span_exporters=[], log_exporters=[],
                            metric_readers=[InMemoryMetricExporter()], watch_config=False)
    alone = build_pipeline(MonitoringConfig(), set_global=False, span_exporters=[], log_exporters=[],
                           metric_readers=[], watch_config=False)
    try:
        metrics, anomaly = tapped.capability("metrics"), tapped.capability("anomaly")
        assert isinstance(metrics, MetricsCapability) and isinstance(anomaly, AnomalyCapability)
        assert anomaly.reader is None and metrics.readers[0].taps == [anomaly.feed]
        own = alone.capability("anomaly")
        assert isinstance(own, AnomalyCapability) and own.reader is not None and own.reader.running
    finally:
        tapped.shutdown()
        alone.shutdown()
