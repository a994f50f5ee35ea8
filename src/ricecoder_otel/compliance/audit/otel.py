"""Each durable audit record becomes a ``ricecoder.audit`` OpenTelemetry log record.

The collector agent routes log records with that event name through its own pipeline (a
persistent queue on disk and a local archive) and keys them by ``ricecoder.audit.id``, which
its redaction processor leaves alone, as it does ``ricecoder.audit.seq``. The id is the
record's hash: unique, and it lets anyone match an exported record to the journal and its
inclusion proof. The record's trace and span ids become the log record's trace context.
"""

from __future__ import annotations

from datetime import datetime

from opentelemetry import trace
from opentelemetry._logs import LoggerProvider, SeverityNumber
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, StatusCode, TraceFlags

from ricecoder_otel._version import __version__
from ricecoder_otel.compliance.audit.api import ANONYMOUS, Entry
from ricecoder_otel.compliance.audit.engine import AuditRecord, iso_time
from ricecoder_otel.compliance.audit.operations import OperationMatcher
from ricecoder_otel.kernel.events import AUDIT_EVENT, AttributeValue, AuditRecorded, EventHub

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
    """Emits audit records through the pipeline's LoggerProvider (its exporting processors batch them)
    and announces each on the event hub (:class:`AuditRecorded`) when it has one."""

    def __init__(self, logger_provider: LoggerProvider, hub: EventHub | None = None) -> None:
        self._logger = logger_provider.get_logger("ricecoder_otel.audit", __version__)
        self._hub = hub

    def emit(self, record: AuditRecord) -> None:
        self._log(record)
        if self._hub is not None:
            self._hub.publish(
                AuditRecorded(
                    at=datetime.fromisoformat(record.ts).timestamp(),  # when it was recorded
                    seq=record.seq,
                    record_hash=record.hash,
                    action=record.action,
                    resource=record.resource,
                    outcome=record.outcome,
                    actor=record.actor,
                    trace_id=record.trace_id,
                    span_id=record.span_id,
                )
            )

    def _log(self, record: AuditRecord) -> None:
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


_SERVER = SpanKind.SERVER
_ERROR = StatusCode.ERROR


def span_entry(span: ReadableSpan, matcher: OperationMatcher) -> Entry | None:
    """The audit entry of a finished span that ``matcher`` tags, else None (one cached lookup).

    A SERVER span is matched by its ``http.route`` (else ``url.path``), any span by its name.
    Outcome: ``denied`` for HTTP 401 and 403, ``failure`` for other 4xx, ``error`` for 5xx or an
    error status, else ``success``. Actor: ``enduser.id``, else ``user.id``, else ``anonymous``.
    """
    attributes = span.attributes or {}
    operation = None
    resource = ""
    if matcher.routes and span.kind is _SERVER:
        try:  # subscripting skips Mapping.get's Python frame: this is the cost of every unmatched span
            route = attributes["http.route"]
        except KeyError:
            route = attributes.get("url.path")
        if route:
            resource = route if type(route) is str else str(route)
            operation = matcher.route(resource)
    if operation is None and matcher.names:
        resource = span.name
        operation = matcher.name(resource)
    if operation is None:
        return None
    status = attributes.get("http.response.status_code", attributes.get("http.status_code"))
    details: dict[str, object] = {"tag": operation.tag, "match": operation.match, "pattern": operation.pattern}
    details["span"] = span.name
    method = attributes.get("http.request.method", attributes.get("http.method"))
    if method is not None:
        details["http.request.method"] = method
    if status is not None:
        details["http.response.status_code"] = status
    if span.end_time is not None:
        details["ended"] = iso_time(span.end_time / 1e9)
    user = attributes.get("enduser.id") or attributes.get("user.id")
    context = span.get_span_context()
    return Entry(
        operation.action,
        resource,
        _outcome(status, span.status.status_code is _ERROR),
        str(user) if user else ANONYMOUS,
        format(context.trace_id, "032x") if context is not None else "",
        format(context.span_id, "016x") if context is not None else "",
        details,
    )


def _outcome(status: object, error: bool) -> str:
    if type(status) is str and status.isdigit():
        status = int(status)
    if type(status) is int:
        if status in (401, 403):
            return "denied"
        if status >= 500:
            return "error"
        if status >= 400:
            return "failure"
    return "error" if error else "success"
