"""Send a probe span, metric and log through the configured OTLP exporters and explain the outcome.

For each signal: the hops up to the request (connect, TLS, protocol; see ``probe``), then the
export itself through the same OpenTelemetry SDK exporter class and ``OTEL_EXPORTER_OTLP_*``
variables the service uses. A failed hop carries the fix. The export's own error text is
captured from the exporter's log records, so refusals (auth, limits) are reported verbatim.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from ricecoder_otel.collector.probe import GRPC, HTTP, SIGNALS, EndpointError, Finding, Target, diagnose, target_for
from ricecoder_otel.config.secrets import redact_dsn

PROBE_NAME = "ricecoder.doctor.probe"
EXPORT_TIMEOUT_S = 5.0


@dataclass
class SignalReport:
    """The hops one signal went through, the last one the export when all before it passed."""

    signal: str
    endpoint: str | None
    protocol: str | None
    hops: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.hops) and all(h.ok for h in self.hops) and self.hops[-1].hop == "export"

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "endpoint": self.endpoint,
            "protocol": self.protocol,
            "hops": [asdict(h) for h in self.hops],
        }


def run(env: Mapping[str, str] | None = None) -> list[SignalReport]:
    """Probe every signal; one report per signal, in traces, metrics, logs order."""
    env = os.environ if env is None else env
    probe_id = uuid.uuid4().hex
    reports = []
    for signal in SIGNALS:
        try:
            target = target_for(signal, env)
        except EndpointError as exc:
            reports.append(SignalReport(signal, None, None, [Finding("config", False, str(exc), "fix the variable")]))
            continue
        report = SignalReport(signal, redact_dsn(target.endpoint), target.protocol, diagnose(target))
        if all(h.ok for h in report.hops):
            report.hops.append(_export(target, probe_id))
        reports.append(report)
    return reports


def _export(target: Target, probe_id: str) -> Finding:
    if target.protocol not in (GRPC, HTTP):
        return Finding(
            "export",
            False,
            f"the Python OTLP exporters do not support {target.protocol}",
            "set OTEL_EXPORTER_OTLP_PROTOCOL to grpc or http/protobuf",
        )
    send = {"traces": _send_span, "metrics": _send_metric, "logs": _send_log}[target.signal]
    with _captured_exporter_errors() as errors:
        try:
            accepted = send(target.protocol, probe_id)
        except Exception as exc:  # an exporter that raises is reported, never propagated
            accepted, errors[:] = False, [*errors, f"{type(exc).__name__}: {exc}"]
    what = {"traces": "span", "metrics": "metric", "logs": "log record"}[target.signal]
    if accepted:
        return Finding("export", True, f"probe {what} accepted by {redact_dsn(target.endpoint)} (probe id {probe_id})")
    reason = errors[-1] if errors else "the exporter reported failure"
    return Finding("export", False, f"probe {what} refused: {reason}", _fix_for(reason))


def _fix_for(reason: str) -> str:
    lowered = reason.lower()
    if any(word in lowered for word in ("unauthenticated", "401", "403", "permission", "unauthorized")):
        return "the receiver requires credentials: set OTEL_EXPORTER_OTLP_HEADERS (e.g. authorization=Bearer ...)"
    if "certificate" in lowered or "ssl" in lowered:
        return "set OTEL_EXPORTER_OTLP_CERTIFICATE to the CA that signed the collector's certificate"
    if "404" in lowered:
        return "the HTTP path is wrong: give the base URL in OTEL_EXPORTER_OTLP_ENDPOINT (the SDK adds /v1/<signal>)"
    return "read the collector's log for the refusal; its memory_limiter refuses data when memory is short"


class _ErrorCollector(logging.Handler):
    def __init__(self, sink: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append(record.getMessage())


@contextmanager
def _captured_exporter_errors() -> Iterator[list[str]]:
    errors: list[str] = []
    handler = _ErrorCollector(errors)
    logger = logging.getLogger("opentelemetry")
    logger.addHandler(handler)
    try:
        yield errors
    finally:
        logger.removeHandler(handler)


def _resource() -> Any:
    from opentelemetry.sdk.resources import Resource

    return Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", "ricecoder-doctor")})


def _exporter(signal: str, protocol: str) -> Any:
    """The SDK's own exporter class for signal and protocol, configured from the environment."""
    classes: dict[str, Callable[..., Any]]
    if protocol == GRPC:
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter as GrpcLogs
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter as GrpcMetrics
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpans

        classes = {"traces": GrpcSpans, "metrics": GrpcMetrics, "logs": GrpcLogs}
    else:
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as HttpLogs
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter as HttpMetrics
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpans

        classes = {"traces": HttpSpans, "metrics": HttpMetrics, "logs": HttpLogs}
    return classes[signal](timeout=EXPORT_TIMEOUT_S)


def _send_span(protocol: str, probe_id: str) -> bool:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=_resource())
    provider.add_span_processor(SimpleSpanProcessor(memory))
    provider.get_tracer(PROBE_NAME).start_span(PROBE_NAME, attributes={"ricecoder.doctor.probe_id": probe_id}).end()
    exporter = _exporter("traces", protocol)
    try:
        return bool(exporter.export(memory.get_finished_spans()) == SpanExportResult.SUCCESS)
    finally:
        exporter.shutdown()
        provider.shutdown()


def _send_metric(protocol: str, probe_id: str) -> bool:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader, MetricExportResult

    reader = InMemoryMetricReader()
    provider = MeterProvider(resource=_resource(), metric_readers=[reader])
    provider.get_meter(PROBE_NAME).create_counter(PROBE_NAME).add(1, {"ricecoder.doctor.probe_id": probe_id})
    data = reader.get_metrics_data()
    exporter = _exporter("metrics", protocol)
    try:
        return bool(data is not None and exporter.export(data) == MetricExportResult.SUCCESS)
    finally:
        exporter.shutdown()
        provider.shutdown()


def _send_log(protocol: str, probe_id: str) -> bool:
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import (
        InMemoryLogRecordExporter,
        LogRecordExportResult,
        SimpleLogRecordProcessor,
    )

    memory = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
    provider = LoggerProvider(resource=_resource())
    provider.add_log_record_processor(SimpleLogRecordProcessor(memory))
    provider.get_logger(PROBE_NAME).emit(
        body="ricecoder doctor probe", attributes={"ricecoder.doctor.probe_id": probe_id}
    )
    exporter = _exporter("logs", protocol)
    try:
        return bool(exporter.export(memory.get_finished_logs()) == LogRecordExportResult.SUCCESS)
    finally:
        exporter.shutdown()
        provider.shutdown()
