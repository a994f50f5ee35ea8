"""Each durable audit record becomes a ``ricecoder.audit`` OpenTelemetry log record.

The collector agent routes log records with that event name through its own pipeline (a
persistent queue on disk and a local archive) and keys them by ``ricecoder.audit.id``, which
its redaction processor leaves alone, as it does ``ricecoder.audit.seq``. The id is the
record's hash: unique, and it lets anyone match an exported record to the journal and its
inclusion proof. The record's trace and span ids become the log record's trace context.
"""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry._logs import LoggerProvider, SeverityNumber
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from ricecoder_otel._version import __version__
from ricecoder_otel.compliance.audit.engine import AuditRecord
from ricecoder_otel.kernel.events import AttributeValue

AUDIT_EVENT = "ricecoder.audit"
_SUCCESS = frozenset({"success", "ok", "allowed", "accepted"})


def audit_attributes(record: AuditRecord) -> dict[str, AttributeValue]:
    """The log record attributes of one audit record (details flattened, non-scalars as text)."""
    attrs: dict[str, AttributeValue] = {
        "ricecoder.audit.id": record.hash,
        "ricecoder.audit.seq": record.seq,
        "ricecoder.audit.prev_hash": record.prev,
        "ricecoder.audit.timestamp": record.ts,
        "ricecoder.audit.actor": record.actor,
        "ricecoder.audit.action": record.action,
        "ricecoder.audit.resource": record.resource,
        "ricecoder.audit.outcome": record.outcome,
    }
    for key, value in record.details.items():
        attrs[f"ricecoder.audit.detail.{key}"] = value if isinstance(value, str | bool | int | float) else repr(value)
    return attrs


class AuditLogEmitter:
    """Emits audit records through the pipeline's LoggerProvider (its exporting processors batch them)."""

    def __init__(self, logger_provider: LoggerProvider) -> None:
        self._logger = logger_provider.get_logger("ricecoder_otel.audit", __version__)

    def emit(self, record: AuditRecord) -> None:
        context = None
        if record.trace_id and record.span_id:
            span_context = SpanContext(
                int(record.trace_id, 16), int(record.span_id, 16), is_remote=False, trace_flags=TraceFlags(1)
            )
            context = trace.set_span_in_context(NonRecordingSpan(span_context))
        severity = SeverityNumber.INFO if record.outcome in _SUCCESS else SeverityNumber.WARN
        self._logger.emit(
            severity_number=severity,
            severity_text=severity.name,
            body=f"{record.action} {record.resource}: {record.outcome}",
            attributes=audit_attributes(record),
            event_name=AUDIT_EVENT,
            context=context,
        )
