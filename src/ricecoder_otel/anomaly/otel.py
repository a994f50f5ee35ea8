"""Thin OpenTelemetry adapter: episodes become log records, scores become a gauge.

Each episode report from an :class:`AnomalyMonitor` is emitted as a log record with the event
name ``ricecoder.anomaly`` (severity WARN when it opens, INFO when it closes) carrying the series
key, kind, expected range, observed value and exemplar trace id as attributes. The latest score of
every series is the observable gauge ``ricecoder.anomaly.score`` (attribute
``ricecoder.anomaly.series``), read on each metric collection.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from opentelemetry._logs import LoggerProvider, LogRecord, SeverityNumber, get_logger_provider
from opentelemetry.metrics import CallbackOptions, MeterProvider, Observation, get_meter_provider
from opentelemetry.util.types import AttributeValue

from ricecoder_otel.anomaly.episode import Episode
from ricecoder_otel.anomaly.monitor import AnomalyMonitor

EVENT_NAME = "ricecoder.anomaly"
SCORE_GAUGE = "ricecoder.anomaly.score"
SERIES_ATTRIBUTE = "ricecoder.anomaly.series"
SCOPE = "ricecoder_otel.anomaly"


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def episode_attributes(ep: Episode) -> dict[str, AttributeValue]:
    """The log record attributes of one episode report."""
    attrs: dict[str, AttributeValue] = {
        SERIES_ATTRIBUTE: ep.key,
        "ricecoder.anomaly.kind": ep.kind,
        "ricecoder.anomaly.phase": "start" if ep.is_open else "end",
        "ricecoder.anomaly.score": ep.peak_score,
        "ricecoder.anomaly.direction": ep.direction,
        "ricecoder.anomaly.observed": ep.observed,
        "ricecoder.anomaly.expected": ep.expected,
        "ricecoder.anomaly.expected_low": ep.expected_low,
        "ricecoder.anomaly.expected_high": ep.expected_high,
        "ricecoder.anomaly.onset": _iso(ep.onset),
        "ricecoder.anomaly.points": ep.points,
    }
    if ep.end is not None:
        attrs["ricecoder.anomaly.end"] = _iso(ep.end)
    if ep.trace_id:
        attrs["ricecoder.anomaly.exemplar.trace_id"] = ep.trace_id
    return attrs


def _body(ep: Episode) -> str:
    phase = "started" if ep.is_open else "ended"
    return (
        f"anomaly {phase}: {ep.kind} on {ep.key}: observed {ep.observed:.6g}, "
        f"expected {ep.expected:.6g} ({ep.expected_low:.6g}..{ep.expected_high:.6g})"
    )


class AnomalyTelemetry:
    """Connects an :class:`AnomalyMonitor` to the SDK's logger and meter providers.

    Construct once per process after the providers exist; it registers itself as a monitor
    listener and creates the gauge. Providers default to the global ones.
    """

    def __init__(
        self,
        monitor: AnomalyMonitor,
        *,
        logger_provider: LoggerProvider | None = None,
        meter_provider: MeterProvider | None = None,
    ) -> None:
        self._monitor = monitor
        self._logger = (logger_provider or get_logger_provider()).get_logger(SCOPE)
        meter = (meter_provider or get_meter_provider()).get_meter(SCOPE)
        self.gauge = meter.create_observable_gauge(
            SCORE_GAUGE,
            callbacks=[self._observe],
            unit="1",
            description="Anomaly score of each monitored series, 0 (normal) to 1 (anomalous)",
        )
        monitor.add_listener(self.emit)

    def emit(self, ep: Episode) -> None:
        """Emit one episode report as a ``ricecoder.anomaly`` log record."""
        when = ep.onset if ep.end is None else ep.end
        self._logger.emit(
            LogRecord(
                timestamp=int(when * 1e9),
                severity_number=SeverityNumber.WARN if ep.is_open else SeverityNumber.INFO,
                severity_text="WARN" if ep.is_open else "INFO",
                body=_body(ep),
                attributes=episode_attributes(ep),
                event_name=EVENT_NAME,
            )
        )

    def _observe(self, _options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(score, {SERIES_ATTRIBUTE: key}) for key, score in self._monitor.scores().items()]
