"""A service that produces every kind of ricecoder event, exporting over OTLP to the agent.

The real pipeline (``build_pipeline``) runs here with a manual clock, as
tests/unit/pipeline/test_anomaly_feed.py drives it: twenty minutes of healthy ``GET /orders``
windows, then the route slows down twentyfold. The anomaly detectors report episodes
(``ricecoder.anomaly``, each pointing at an exemplar trace) and the p95 rule on the route fires
(``ricecoder.alert``); the manual clock means the test runs the alert evaluation the loop would
run each interval. A payment fails (an error trace); a live config change publishes
``ricecoder.config.changed``, which the audit trail records (``ricecoder.audit``), and one
``audit()`` call inside a span adds a record with trace context.

Everything goes to the agent through the standard OTLP/HTTP exporters; the same spans and log
records also go to in-memory exporters, which are the ground truth the tests compare with what
the backends return.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from ricecoder_otel.alerting.capability import AlertingCapability
from ricecoder_otel.compliance.audit.api import audit
from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.pipeline import Pipeline, build_pipeline

SERVICE = "ricecoder-feed"
ROUTE = "/orders"
PAYMENT = "POST /payments"
FAILURE = "payment provider timed out"
SLOW_WINDOWS = 6
EVENTS = ("ricecoder.anomaly", "ricecoder.alert", "ricecoder.config.changed", "ricecoder.audit")
RULE = {
    "name": "orders-slow",
    "metric": "http.server.request.duration",
    "match": {"http.route": ROUTE},
    "group_by": ["http.route"],
    "aggregation": "quantile",
    "quantile": 0.95,
    "window": "1m",
    "operator": ">",
    "threshold": 0.5,
    "for": "15s",
    "severity": "warning",
    "labels": {"team": "shop"},
    "annotations": {"summary": "p95 of {{ $labels.http_route }} is {{ $value }}"},
}


@dataclass
class Fed:
    """What the service produced, as the SDK handed it to its exporters."""

    spans: list[ReadableSpan]
    records: list[ReadableLogRecord]
    slow_traces: set[str]
    """Traces of the requests after the slowdown."""
    failed_trace: str

    def events(self, name: str) -> list[ReadableLogRecord]:
        return [r for r in self.records if r.log_record.event_name == name]


def _window(pipeline: Pipeline, start_ns: int, latencies_s: list[float]) -> set[str]:
    """One 10-second window of successful server spans; returns their trace ids."""
    tracer = pipeline.tracer_provider.get_tracer("ricecoder.feed")
    ids: set[str] = set()
    for latency in latencies_s:
        span = tracer.start_span(f"GET {ROUTE}", kind=SpanKind.SERVER, start_time=start_ns)
        span.set_attribute("http.route", ROUTE)
        span.set_attribute("http.request.method", "GET")
        span.set_attribute("http.response.status_code", 200)
        ids.add(f"{span.get_span_context().trace_id:032x}")
        span.end(end_time=start_ns + int(latency * 1e9))
    return ids


def _evaluate(pipeline: Pipeline) -> None:
    """Feed the anomaly detectors and run one alert evaluation, as the loops do each interval."""
    pipeline.force_flush()
    alerting = pipeline.capability("alerting")
    assert isinstance(alerting, AlertingCapability)
    alerting.evaluate_now()


def _failure(pipeline: Pipeline, start_ns: int) -> str:
    """One failed payment: a server span with an error status and a client child."""
    tracer = pipeline.tracer_provider.get_tracer("ricecoder.feed")
    with tracer.start_as_current_span(PAYMENT, kind=SpanKind.SERVER, start_time=start_ns) as span:
        span.set_attribute("http.route", "/payments")
        span.set_attribute("http.request.method", "POST")
        span.set_attribute("http.response.status_code", 502)
        with tracer.start_as_current_span("POST", kind=SpanKind.CLIENT, start_time=start_ns + 1000) as child:
            child.set_attribute("server.address", "payments.example.net")
            child.set_status(Status(StatusCode.ERROR, FAILURE))
        span.set_status(Status(StatusCode.ERROR, FAILURE))
        return f"{span.get_span_context().trace_id:032x}"


def feed(agent_http: str, workdir: Path, start: float = 1_700_000_000.0) -> Fed:
    """Run the scenario against the agent's OTLP/HTTP receiver and flush everything."""
    config = MonitoringConfig.model_validate(
        {
            "service_name": SERVICE,
            "alerting": {"rules": [RULE]},
            "compliance": {"audit": {"path": str(workdir / "audit")}},
        }
    )
    memory_spans, memory_logs = InMemorySpanExporter(), InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
    now = [start]
    pipeline = build_pipeline(
        config,
        set_global=False,
        span_exporters=[OTLPSpanExporter(endpoint=f"{agent_http}/v1/traces"), memory_spans],
        metric_readers=[],
        log_exporters=[OTLPLogExporter(endpoint=f"{agent_http}/v1/logs"), memory_logs],
        clock=lambda: now[0],
        store=str(workdir / "store.db"),  # alert state of its own: a firing alert is announced once per store
        watch_config=False,
    )
    rng = random.Random(3)
    slow: set[str] = set()
    try:
        for _ in range(120):  # 20 minutes of healthy 10-second windows
            now[0] += 10
            _window(pipeline, int(now[0] * 1e9), [rng.lognormvariate(-3.0, 0.2) for _ in range(8)])
            _evaluate(pipeline)
        for _ in range(SLOW_WINDOWS):  # the route slows down twentyfold
            now[0] += 10
            slow |= _window(pipeline, int(now[0] * 1e9), [rng.uniform(0.9, 1.1) for _ in range(8)])
            _evaluate(pipeline)
        failed = _failure(pipeline, int(now[0] * 1e9))
        changed = config.model_copy(update={"metrics": config.metrics.model_copy(update={"cardinality_limit": 500})})
        pipeline.apply(config, changed)
        with pipeline.tracer_provider.get_tracer("ricecoder.feed").start_as_current_span("POST /refunds"):
            audit("refund.issue", "order/42", actor="support-7", amount=12.5, currency="EUR")
        pipeline.force_flush()
    finally:
        pipeline.shutdown()
    return Fed(list(memory_spans.get_finished_spans()), list(memory_logs.get_finished_logs()), slow, failed)
