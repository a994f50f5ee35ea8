"""Anomaly detection as a capability: metric collections feed the monitor, episodes go to the hub.

The feed taps the collections of the metrics exporters' reader (no second reader: that would
double the SDK's work per measurement); with no exporting reader (metrics exported nowhere, or
only scraped) it gets a reader of its own at the export interval. Switched off, the feed ignores
collections (its own reader, if any, stops its thread) and the detectors keep their learned
state, so switching back on resumes where they were. While metrics are switched off, no
collections happen, so the detectors wait too. Each episode report is published as an
:class:`~ricecoder_otel.kernel.events.AnomalyEpisode`; after each feed the scores are
published as :class:`~ricecoder_otel.kernel.events.AnomalyScores` for alert rules of kind
``anomaly``. Each time an episode's exemplar becomes a new request, a span tagged
``ricecoder.anomaly=true`` joins that request's trace (:class:`ExemplarTagger`). Per-series
options (``anomaly.series``) become :class:`SeriesRule` rules, applied live.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ricecoder_otel.anomaly.episode import Episode
from ricecoder_otel.anomaly.feed import AnomalyFeedExporter
from ricecoder_otel.anomaly.monitor import AnomalyMonitor
from ricecoder_otel.anomaly.otel import AnomalyTelemetry, ExemplarTagger
from ricecoder_otel.anomaly.series import SeriesRule
from ricecoder_otel.kernel.capability import BuildContext, Capability, InstallContext
from ricecoder_otel.kernel.events import AnomalyEpisode, AnomalyScores, EventHub

if TYPE_CHECKING:
    from ricecoder_otel.config import MonitoringConfig
    from ricecoder_otel.config.model import AnomalyConfig
    from ricecoder_otel.kernel.reader import ControlledReader


def series_rules(section: AnomalyConfig) -> list[SeriesRule]:
    """The engine's rules for ``anomaly.series``, in config order (the first match wins)."""
    return [
        SeriesRule(
            metric=entry.metric,
            match=tuple(sorted(entry.match.items())),
            sensitivity=entry.sensitivity,
            seasonal=entry.seasonal,
            transform=None if entry.transform == "auto" else entry.transform,
        )
        for entry in section.series
    ]


def episode_event(ep: Episode) -> AnomalyEpisode:
    """The hub event for one episode report."""
    return AnomalyEpisode(
        at=ep.onset if ep.end is None else ep.end,
        series=ep.key,
        kind=ep.kind,
        score=ep.peak_score,
        direction=ep.direction,
        observed=ep.observed,
        expected=ep.expected,
        expected_low=ep.expected_low,
        expected_high=ep.expected_high,
        onset=ep.onset,
        end=ep.end,
        points=ep.points,
        trace_id=ep.trace_id,
    )


class AnomalyCapability(Capability):
    name = "anomaly"
    section = "anomaly"

    def __init__(self) -> None:
        self.monitor: AnomalyMonitor | None = None
        self.feed: AnomalyFeedExporter | None = None
        self.reader: ControlledReader | None = None
        self.telemetry: AnomalyTelemetry | None = None
        self.tagger: ExemplarTagger | None = None
        self._hub: EventHub | None = None

    def prepare(self, context: BuildContext) -> None:
        self._hub = context.hub
        self.monitor = AnomalyMonitor(clock=context.clock, rules=series_rules(context.config.anomaly))
        self.feed = AnomalyFeedExporter(self.monitor, context.config.anomaly.metrics, clock=context.clock)
        self.feed.after_feed = self._publish_scores
        # Read the collections the metrics exporters already make; a reader of its own only without one.
        if context.tap(self.feed) is None:
            self.reader = context.periodic_reader(self.feed)

    def install(self, context: InstallContext) -> None:
        assert self.monitor is not None
        self.telemetry = AnomalyTelemetry(self.monitor, meter_provider=context.meter_provider)
        self.tagger = ExemplarTagger(context.tracer_provider)
        self.monitor.add_listener(self._publish_episode)
        self.monitor.add_exemplar_listener(self.tagger.tag)

    def _publish_episode(self, ep: Episode) -> None:
        if self._hub is not None:
            self._hub.publish(episode_event(ep))

    def _publish_scores(self) -> None:
        if self._hub is not None and self.monitor is not None:
            self._hub.publish(AnomalyScores(at=self._hub.clock(), scores=self.monitor.scores()))

    def start(self) -> None:
        if self.feed is not None:
            self.feed.enabled = True
        if self.reader is not None:
            self.reader.start()

    def stop(self) -> None:
        if self.reader is not None:
            self.reader.stop()
        if self.feed is not None:
            self.feed.enabled = False

    def apply(self, old: MonitoringConfig, new: MonitoringConfig) -> None:
        if self.feed is not None:
            self.feed.update(self.feed.enabled, new.anomaly.metrics)
        if self.monitor is not None:  # also catches up with a change made while switched off
            self.monitor.configure(rules=series_rules(new.anomaly))
