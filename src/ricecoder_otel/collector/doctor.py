"""Check that this environment's telemetry reaches where the service would send it, and explain why not.

The settings are the service's own: ``kernel.defaults.effective_env`` applies the distro's
defaults to the environment, so doctor sees the exporters and protocol the service uses
(``http/protobuf`` on 4318 unless set; the per-signal variables win). Per signal and exporter:

* ``ricecoder_local``: the embedded store (see ``embedded``): writable, recent row counts.
* ``otlp`` (and ``otlp_proto_grpc``/``otlp_proto_http``): the hops up to the request (connect,
  TLS, protocol; see ``probe``), then one probe sent through the same OpenTelemetry SDK exporter
  class and ``OTEL_EXPORTER_OTLP_*`` variables the service uses. The export's own error text is
  captured from the exporter's log records, so refusals (auth, limits) are reported verbatim.
* anything else is named, and an exporter no installed package provides is a failure.

A failed hop carries the fix.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from importlib.metadata import entry_points
from typing import Any

from ricecoder_otel.collector.embedded import StoreReport, check_store, service_config
from ricecoder_otel.collector.probe import GRPC, HTTP, EndpointError, Finding, Target, diagnose, target_for
from ricecoder_otel.config.secrets import redact_dsn
from ricecoder_otel.kernel.defaults import LOCAL_EXPORTER, SIGNALS, effective_env, exporter_names

PROBE_NAME = "ricecoder.doctor.probe"
EXPORT_TIMEOUT_S = 5.0
# The SDK's OTLP exporter names; the last two fix the protocol whatever the variables say.
OTLP_NAMES: Mapping[str, str | None] = {"otlp": None, "otlp_proto_grpc": GRPC, "otlp_proto_http": HTTP}
_NOT_PROBED = {
    "console": "printed on the service's stdout; nothing to probe",
    "prometheus": "served by the service itself for Prometheus to scrape "
    "(OTEL_EXPORTER_PROMETHEUS_HOST/PORT); doctor does not start the service, so it is not probed",
}


@dataclass
class SignalReport:
    """What one signal goes through: for OTLP the hops, the last one the export when all before it passed."""

    signal: str
    endpoint: str | None
    protocol: str | None
    hops: list[Finding] = field(default_factory=list)
    exporters: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.hops) and all(h.ok for h in self.hops)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "exporters": self.exporters,
            "endpoint": self.endpoint,
            "protocol": self.protocol,
            "hops": [asdict(h) for h in self.hops],
        }


@dataclass
class DoctorReport:
    """Every signal, the embedded store when any signal writes to it, and how telemetry leaves."""

    signals: list[SignalReport]
    store: StoreReport | None

    @property
    def mode(self) -> str:
        """``embedded``, ``otlp``, ``mixed`` (some of each) or ``other`` (neither, e.g. console only)."""
        names = {name for report in self.signals for name in report.exporters}
        local, otlp = LOCAL_EXPORTER in names, bool(names & OTLP_NAMES.keys())
        return "mixed" if local and otlp else "embedded" if local else "otlp" if otlp else "other"

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.signals) and (self.store is None or self.store.ok)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "mode": self.mode,
            "store": None if self.store is None else self.store.as_dict(),
            "signals": {report.signal: report.as_dict() for report in self.signals},
        }


def run(env: Mapping[str, str] | None = None) -> DoctorReport:
    """Check every signal as the service would export it; one report per signal, in SIGNALS order."""
    raw = os.environ if env is None else env
    resolved = effective_env(raw)
    probe_id = uuid.uuid4().hex
    chosen = _exporters(raw)
    store = check_store(raw) if any(LOCAL_EXPORTER in names for names in chosen.values()) else None
    reports = []
    for signal in SIGNALS:
        names = chosen[signal]
        report = SignalReport(signal, None, None, exporters=names)
        if not names:
            disabled = f"OTEL_{signal.upper()}_EXPORTER=none: {signal} are not exported"
            report.hops.append(Finding("exporter", True, disabled))
        for name in names:
            if name == LOCAL_EXPORTER:
                assert store is not None
                report.hops.append(Finding("store", store.ok, store.detail, store.fix))
            elif name in OTLP_NAMES:
                _check_otlp(report, resolved, OTLP_NAMES[name], probe_id)
            else:
                report.hops.append(_other_exporter(signal, name))
        reports.append(report)
    return DoctorReport(reports, store)


def _exporters(env: Mapping[str, str]) -> dict[str, list[str]]:
    """Each signal's exporters as the pipeline picks them: for metrics, ``metrics.exporters`` from the
    config applies unless the user set ``OTEL_METRICS_EXPORTER``."""
    from ricecoder_otel.config.model import metrics_exporters

    chosen = {signal: exporter_names(signal, env) for signal in SIGNALS}
    config, _ = service_config(env)
    if config is not None:
        configured = metrics_exporters(config.metrics, env)
        if configured is not None:
            chosen["metrics"] = configured
    return chosen


def _check_otlp(report: SignalReport, env: dict[str, str], forced: str | None, probe_id: str) -> None:
    if forced is not None:
        env = {**env, f"OTEL_EXPORTER_OTLP_{report.signal.upper()}_PROTOCOL": forced}
    try:
        target = target_for(report.signal, env)
    except EndpointError as exc:
        report.hops.append(Finding("config", False, str(exc), "fix the variable"))
        return
    report.endpoint, report.protocol = redact_dsn(target.endpoint), target.protocol
    hops = diagnose(target)
    if all(h.ok for h in hops):
        hops.append(_export(target, probe_id))
    report.hops.extend(hops)


def _other_exporter(signal: str, name: str) -> Finding:
    if name in _NOT_PROBED:
        return Finding("exporter", True, f"{name}: {_NOT_PROBED[name]}")
    if entry_points(group=f"opentelemetry_{signal}_exporter", name=name):
        return Finding("exporter", True, f"{name}: installed; doctor has no probe for it")
    return Finding(
        "exporter",
        False,
        f"no installed package provides the {signal} exporter {name!r}: the service fails at start-up",
        f"fix OTEL_{signal.upper()}_EXPORTER, or install the package registering {name!r} "
        f"in the opentelemetry_{signal}_exporter entry point group",
    )


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
