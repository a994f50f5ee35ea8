"""Thin OpenTelemetry adapter: the latest score of every series is the gauge ``ricecoder.anomaly.score``.

Episode reports reach OpenTelemetry through the event hub (``ricecoder.anomaly`` log records,
see :class:`~ricecoder_otel.kernel.events.AnomalyEpisode`); the gauge (attribute
``ricecoder.anomaly.series``) is read on each metric collection.
"""

from __future__ import annotations

from collections.abc import Iterable

from opentelemetry.metrics import CallbackOptions, MeterProvider, Observation

from ricecoder_otel.anomaly.monitor import AnomalyMonitor
from ricecoder_otel.kernel.events import AnomalyEpisode

EVENT_NAME = AnomalyEpisode.event_name
SCORE_GAUGE = "ricecoder.anomaly.score"
SERIES_ATTRIBUTE = "ricecoder.anomaly.series"
SCOPE = "ricecoder_otel.anomaly"


class AnomalyTelemetry:
    """Publishes an :class:`AnomalyMonitor`'s scores as an observable gauge."""

    def __init__(self, monitor: AnomalyMonitor, *, meter_provider: MeterProvider) -> None:
        self._monitor = monitor
        self.gauge = meter_provider.get_meter(SCOPE).create_observable_gauge(
            SCORE_GAUGE,
            callbacks=[self._observe],
            unit="1",
            description="Anomaly score of each monitored series, 0 (normal) to 1 (anomalous)",
        )

    def _observe(self, _options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(score, {SERIES_ATTRIBUTE: key}) for key, score in self._monitor.scores().items()]
