"""Alert transitions as OpenTelemetry log records (event name ``ricecoder.alert``).

They reach every log exporter: the embedded store, OTLP backends, the collector.
"""

from __future__ import annotations

from collections.abc import Iterable

from opentelemetry._logs import LoggerProvider, SeverityNumber
from opentelemetry.util.types import AttributeValue

from ricecoder_otel.alerting.rules import AlertEvent

EVENT_NAME = "ricecoder.alert"
_SEVERITY = {
    ("firing", "critical"): SeverityNumber.ERROR,
    ("firing", "warning"): SeverityNumber.WARN,
    ("firing", "info"): SeverityNumber.INFO,
}


def alert_attributes(event: AlertEvent) -> dict[str, AttributeValue]:
    attributes: dict[str, AttributeValue] = {
        "ricecoder.alert.name": event.rule,
        "ricecoder.alert.state": event.state,
        "ricecoder.alert.severity": event.severity,
        "ricecoder.alert.series": event.series,
        "ricecoder.alert.value": event.value,
        "ricecoder.alert.threshold": event.threshold,
        "ricecoder.alert.active_since": event.active_since,
    }
    attributes.update({f"ricecoder.alert.label.{k}": v for k, v in event.labels.items()})
    attributes.update({f"ricecoder.alert.annotation.{k}": v for k, v in event.annotations.items()})
    return attributes


class AlertLogEmitter:
    def __init__(self, logger_provider: LoggerProvider) -> None:
        self._logger = logger_provider.get_logger("ricecoder_otel.alerting")

    def emit(self, events: Iterable[AlertEvent]) -> None:
        for event in events:
            severity = _SEVERITY.get((event.state, event.severity), SeverityNumber.INFO)
            self._logger.emit(
                timestamp=int(event.at * 1e9),
                severity_number=severity,
                severity_text=severity.name,
                body=f"alert {event.rule} {event.state} for {event.series}: "
                f"value {event.value:.6g} vs threshold {event.threshold:.6g}",
                attributes=alert_attributes(event),
                event_name=EVENT_NAME,
            )
