"""Thin OpenTelemetry adapter: the score gauge, and a tag span in each episode's exemplar trace.

Episode reports reach OpenTelemetry through the event hub (``ricecoder.anomaly`` log records,
see :class:`~ricecoder_otel.kernel.events.AnomalyEpisode`); the gauge
``ricecoder.anomaly.score`` (attribute ``ricecoder.anomaly.series``) is read on each metric
collection. :class:`ExemplarTagger` adds a span with ``ricecoder.anomaly=true`` to the trace of
an episode's exemplar request, so a tail sampler that keeps such traces keeps that one.
"""

from __future__ import annotations

from collections.abc import Iterable

from opentelemetry import trace
from opentelemetry.metrics import CallbackOptions, MeterProvider, Observation
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags, TracerProvider

from ricecoder_otel.anomaly.episode import Exemplar
from ricecoder_otel.anomaly.monitor import AnomalyMonitor
from ricecoder_otel.kernel import names
from ricecoder_otel.kernel.events import AnomalyEpisode
from ricecoder_otel.kernel.guard import shielded

EVENT_NAME = AnomalyEpisode.event_name
SCORE_GAUGE = names.ANOMALY_SCORE
SERIES_ATTRIBUTE = "ricecoder.anomaly.series"
SCOPE = "ricecoder_otel.anomaly"
TAG_SPAN = "ricecoder.anomaly"
TAG_ATTRIBUTE = "ricecoder.anomaly"


class AnomalyTelemetry:
    """Publishes an :class:`AnomalyMonitor`'s scores as an observable gauge."""

    def __init__(self, monitor: AnomalyMonitor, *, meter_provider: MeterProvider) -> None:
        self._monitor = monitor
        self.gauge = meter_provider.get_meter(SCOPE).create_observable_gauge(
            SCORE_GAUGE,
            callbacks=[self._observe],
            **names.unit_and_description(SCORE_GAUGE),
        )

    def _observe(self, _options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(score, {SERIES_ATTRIBUTE: key}) for key, score in self._monitor.scores().items()]


class ExemplarTagger:
    """Marks an anomaly's exemplar trace: a zero-length child of the exemplar span, ``ricecoder.anomaly=true``.

    The span sits at the exemplar's own time (the end of the request), so it does not stretch
    the trace's duration; it carries the series and the score. An exemplar without a span id
    cannot be joined to its trace and is skipped. Runs on the metrics feed's thread.
    """

    def __init__(self, tracer_provider: TracerProvider) -> None:
        self._tracer = tracer_provider.get_tracer(SCOPE)
        self.tagged = 0

    @shielded("anomaly", None)
    def tag(self, series: str, exemplar: Exemplar, score: float) -> None:
        if not exemplar.span_id:
            return
        parent = SpanContext(
            int(exemplar.trace_id, 16),
            int(exemplar.span_id, 16),
            is_remote=False,
            trace_flags=TraceFlags(TraceFlags.SAMPLED),
        )
        span = self._tracer.start_span(
            TAG_SPAN,
            context=trace.set_span_in_context(NonRecordingSpan(parent)),
            kind=SpanKind.INTERNAL,
            start_time=exemplar.time_ns,
            attributes={TAG_ATTRIBUTE: True, SERIES_ATTRIBUTE: series, "ricecoder.anomaly.score": score},
        )
        span.end(end_time=exemplar.time_ns)
        self.tagged += 1
