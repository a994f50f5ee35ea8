"""A service that exports through the plain OpenTelemetry SDK's OTLP exporters, for collector tests.

Run as a subprocess with the standard ``OTEL_EXPORTER_OTLP_ENDPOINT`` / ``OTEL_EXPORTER_OTLP_PROTOCOL``
variables. It sends what the command line asks for and prints one JSON object naming what it sent
(trace ids by kind, audit record ids), so a test can check what arrived. Anything that prints the
same summary (the example app under opentelemetry-instrument plus a driver) can replace it.
"""

from __future__ import annotations

import argparse
import json
import os
import time

from opentelemetry import trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Status, StatusCode

AUDIT_EVENT = "ricecoder.audit"
PII_EMAIL = "jane.doe@example.com"
PII_CARD = "4111 1111 1111 1111"
PII_JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJqYW5lIn0.c2lnbmF0dXJl"
SECOND = 1_000_000_000


def _exporters() -> tuple[object, object, object]:
    if os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc") == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    else:
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter  # type: ignore[assignment]
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import (  # type: ignore[assignment]
            OTLPMetricExporter,
        )
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # type: ignore[assignment]
    return OTLPSpanExporter(), OTLPMetricExporter(), OTLPLogExporter()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--healthy-traces", type=int, default=0)
    parser.add_argument("--error-traces", type=int, default=0)
    parser.add_argument("--slow-traces", type=int, default=0)
    parser.add_argument("--anomaly-traces", type=int, default=0)
    parser.add_argument("--spans-per-trace", type=int, default=5)
    parser.add_argument("--pii", action="store_true", help="one error trace and one log carrying an email and card")
    parser.add_argument("--audit", type=int, default=0, help="audit records to emit")
    parser.add_argument("--audit-rate", type=float, default=0.0, help="per second; 0 = as fast as possible")
    parser.add_argument("--audit-prefix", default="audit")
    args = parser.parse_args()

    span_exporter, metric_exporter, log_exporter = _exporters()
    resource = Resource.create({"service.name": "collector-e2e-sender"})
    tracer_provider = TracerProvider(resource=resource)
    # Small batches: the spans of one trace reach the collector in several requests.
    tracer_provider.add_span_processor(
        BatchSpanProcessor(span_exporter, max_queue_size=1_000_000, max_export_batch_size=4, schedule_delay_millis=100)  # type: ignore[arg-type]
    )
    meter_provider = MeterProvider(
        resource=resource,
        metric_readers=[PeriodicExportingMetricReader(metric_exporter, export_interval_millis=500)],  # type: ignore[arg-type]
    )
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(
        BatchLogRecordProcessor(log_exporter, max_queue_size=1_000_000, schedule_delay_millis=100)
    )  # type: ignore[arg-type]

    tracer = tracer_provider.get_tracer("collector-e2e")
    logger = logger_provider.get_logger("collector-e2e")
    requests = meter_provider.get_meter("collector-e2e").create_counter("ricecoder.e2e.requests", unit="1")
    sent: dict[str, list[str]] = {"healthy": [], "error": [], "slow": [], "anomaly": [], "pii": []}

    def one_trace(kind: str) -> None:
        start = time.time_ns()
        duration = 3 * SECOND if kind == "slow" else SECOND // 100
        attributes: dict[str, object] = {"http.route": "/checkout", "test.kind": kind}
        if kind == "anomaly":
            attributes["ricecoder.anomaly"] = True
        name = "POST /checkout"
        if kind == "pii":
            attributes.update({"user.email": PII_EMAIL, "payment.card": PII_CARD, "note": f"session {PII_JWT}"})
            name = f"charge {PII_CARD.replace(' ', '')} for {PII_EMAIL}"
        root = tracer.start_span(name, start_time=start, attributes=attributes)  # type: ignore[arg-type]
        context = trace.set_span_in_context(root)
        for index in range(args.spans_per_trace - 1):
            child = tracer.start_span(f"step-{index}", context=context, start_time=start + index)
            if kind in ("error", "pii") and index == 0:
                child.set_status(Status(StatusCode.ERROR, "payment declined"))
                if kind == "pii":
                    child.add_event("exception", {"exception.message": f"card {PII_CARD} of {PII_EMAIL} declined"})
            child.end(end_time=start + duration // 2)
        root.end(end_time=start + duration)
        sent["pii" if kind == "pii" else kind].append(format(root.get_span_context().trace_id, "032x"))
        requests.add(1, {"kind": kind, "customer": PII_EMAIL if kind == "pii" else "anonymous"})

    for kind, count in (
        ("healthy", args.healthy_traces),
        ("error", args.error_traces),
        ("slow", args.slow_traces),
        ("anomaly", args.anomaly_traces),
    ):
        for _ in range(count):
            one_trace(kind)
    if args.pii:
        one_trace("pii")
        logger.emit(severity_number=SeverityNumber.WARN, body=f"declined card {PII_CARD} for {PII_EMAIL}")

    audit_ids: list[str] = []
    started = time.monotonic()
    for index in range(args.audit):
        if args.audit_rate > 0:
            time.sleep(max(0.0, started + index / args.audit_rate - time.monotonic()))
        record_id = f"{args.audit_prefix}-{index:06d}"
        logger.emit(
            event_name=AUDIT_EVENT,
            severity_number=SeverityNumber.INFO,
            body="order.refund",
            attributes={"ricecoder.audit.id": record_id, "user.id": "u-42", "outcome": "success"},
        )
        audit_ids.append(record_id)

    tracer_provider.shutdown()
    meter_provider.shutdown()
    logger_provider.shutdown()
    print(json.dumps({"traces": sent, "audit_ids": audit_ids, "spans_per_trace": args.spans_per_trace}))


if __name__ == "__main__":
    main()
