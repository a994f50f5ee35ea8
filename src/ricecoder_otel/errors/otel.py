"""Errors leave the process as OpenTelemetry signals.

Each counted error becomes a log record following the exception semantic conventions
(``event_name`` ``exception``; ``exception.type``, ``exception.message``,
``exception.stacktrace``; severity from the error) in the context of the span it happened in,
so backends link it to its trace. Each also adds one to the ``ricecoder.errors`` counter, whose
labels are bounded: ``error.type`` and ``ricecoder.error.group_id`` take at most
``max_types`` / ``max_groups`` distinct values per process, then ``_OTHER`` (the
semantic-convention fallback for ``error.type``).

Group events (a new group, a regression, a spike) also add one to ``ricecoder.errors.group_events``
with ``ricecoder.error.group.kind`` (its only label): the hub event itself is a log record, and
alert rules read metrics, so this is how a rule pages on them (``increase`` of the counter with
``match: {ricecoder.error.group.kind: spike}``). The three series exist from the start at zero,
so an increase over a rule's window is defined before the first event of a kind.
"""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry._logs import LoggerProvider, SeverityNumber
from opentelemetry.context import Context
from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from ricecoder_otel._version import __version__
from ricecoder_otel.errors.engine import Outcome, short_type
from ricecoder_otel.kernel import names

SCOPE = "ricecoder_otel.errors"
EVENT_NAME = "exception"
METRIC = names.ERRORS
GROUP_EVENTS_METRIC = names.ERROR_GROUP_EVENTS
GROUP_EVENT_KINDS = ("new", "regression", "spike")
OTHER = "_OTHER"

SEVERITY: dict[str, SeverityNumber] = {
    "debug": SeverityNumber.DEBUG,
    "info": SeverityNumber.INFO,
    "warning": SeverityNumber.WARN,
    "error": SeverityNumber.ERROR,
    "critical": SeverityNumber.FATAL,
    "fatal": SeverityNumber.FATAL,
}


def span_context(trace_id: str | None, span_id: str | None) -> Context | None:
    """A context whose current span is the one the error happened in (None without ids)."""
    if not trace_id or not span_id:
        return None
    try:
        parent = SpanContext(int(trace_id, 16), int(span_id, 16), is_remote=False, trace_flags=TraceFlags(1))
    except ValueError:
        return None
    if not parent.is_valid:
        return None
    return trace.set_span_in_context(NonRecordingSpan(parent))


class _Bounded:
    """Keeps the first ``limit`` distinct values; later ones become ``_OTHER``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.seen: set[str] = set()

    def __call__(self, value: str) -> str:
        if value in self.seen:
            return value
        if len(self.seen) < self.limit:
            self.seen.add(value)
            return value
        return OTHER


class ErrorTelemetry:
    """The log-record and metric sink of the error worker."""

    def __init__(
        self,
        logger_provider: LoggerProvider,
        meter_provider: MeterProvider,
        *,
        max_groups: int = 100,
        max_types: int = 50,
    ) -> None:
        self._logger = logger_provider.get_logger(SCOPE, __version__)
        self._counter = meter_provider.get_meter(SCOPE, __version__).create_counter(
            METRIC, **names.unit_and_description(METRIC)
        )
        self._group_events = meter_provider.get_meter(SCOPE, __version__).create_counter(
            GROUP_EVENTS_METRIC, **names.unit_and_description(GROUP_EVENTS_METRIC),
        )  # fmt: skip
        for kind in GROUP_EVENT_KINDS:
            self._group_events.add(0, {"ricecoder.error.group.kind": kind})
        self._group_label = _Bounded(max_groups)
        self._type_label = _Bounded(max_types)

    def __call__(self, outcome: Outcome) -> None:
        occurrence, group = outcome.occurrence, outcome.group
        severity = SEVERITY.get(occurrence.severity, SeverityNumber.ERROR)
        attributes: dict[str, str | bool] = {
            "exception.type": occurrence.error_type,
            "exception.message": occurrence.message,
            "exception.stacktrace": occurrence.stack_trace,
            "ricecoder.error.group_id": group.id,
            "ricecoder.error.source": occurrence.source,
            "ricecoder.error.event_id": occurrence.event_id,
        }
        if occurrence.user_id:
            attributes["user.id"] = occurrence.user_id
        if occurrence.session_id:
            attributes["session.id"] = occurrence.session_id
        if group.release:
            attributes["service.version"] = group.release
        if group.environment:
            attributes["deployment.environment.name"] = group.environment
        for key, value in occurrence.context.items():
            attributes.setdefault(f"ricecoder.error.context.{key}", value)
        self._logger.emit(
            timestamp=int(occurrence.timestamp * 1e9),
            context=span_context(occurrence.trace_id, occurrence.span_id),
            severity_number=severity,
            severity_text=severity.name,
            body=f"{short_type(occurrence.error_type)}: {occurrence.message}" if occurrence.message else group.title,
            attributes=attributes,
            event_name=EVENT_NAME,
        )
        error_type = self._type_label(short_type(occurrence.error_type))
        self._counter.add(1, {"error.type": error_type, "ricecoder.error.group_id": self._group_label(group.id)})
        for kind, happened in zip(GROUP_EVENT_KINDS, (outcome.new, outcome.regression, outcome.spike), strict=True):
            if happened:
                self._group_events.add(1, {"ricecoder.error.group.kind": kind})
