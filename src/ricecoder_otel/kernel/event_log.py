"""Every hub event becomes an OpenTelemetry log record carrying its ``event_name``.

So anything the capabilities tell each other also reaches every log exporter: the embedded
store (``ricecoder-otel query logs --event NAME``), the collector and any OTLP backend.
"""

from __future__ import annotations

from opentelemetry._logs import LoggerProvider, SeverityNumber

from ricecoder_otel._version import __version__
from ricecoder_otel.kernel.events import Event, EventHub, Subscription

_SEVERITY = {
    "DEBUG": SeverityNumber.DEBUG,
    "INFO": SeverityNumber.INFO,
    "WARN": SeverityNumber.WARN,
    "ERROR": SeverityNumber.ERROR,
    "FATAL": SeverityNumber.FATAL,
}


class EventLogBridge:
    """A hub subscriber that emits each event as a log record, on the hub's worker thread."""

    def __init__(self, hub: EventHub, logger_provider: LoggerProvider) -> None:
        self._logger = logger_provider.get_logger("ricecoder_otel.events", __version__)
        self.subscription: Subscription[Event] = hub.subscribe(Event, self.emit, name="log-records")

    def emit(self, event: Event) -> None:
        if not event.exported:
            return
        level = event.level()
        severity = _SEVERITY.get(level, SeverityNumber.INFO)
        self._logger.emit(
            timestamp=int(event.at * 1e9),
            severity_number=severity,
            severity_text=severity.name,
            body=event.body(),
            attributes=dict(event.attributes()),
            event_name=event.event_name,
        )
