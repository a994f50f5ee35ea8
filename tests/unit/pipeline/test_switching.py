"""Every capability switches off and on again live, from a config file change, without a restart."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from ricecoder_otel.config import load_config
from ricecoder_otel.kernel.events import AnomalyScores
from ricecoder_otel.pipeline import Pipeline, build_pipeline
from ricecoder_otel.testing import InMemoryMetricExporter, ManualClock, points_in

RULE = {"name": "hot", "kind": "anomaly", "metric": "latency", "threshold": 0.5, "severity": "critical"}


class Harness:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.spans = InMemorySpanExporter()
        self.metrics = InMemoryMetricExporter()
        self.logs = InMemoryLogRecordExporter()
        self.clock = ManualClock()
        self.write({})
        self.pipeline: Pipeline = build_pipeline(
            load_config(path), config_path=path, set_global=False, span_exporters=[self.spans],
            metric_readers=[self.metrics], log_exporters=[self.logs], clock=self.clock,
        )

    def write(self, overrides: dict[str, object]) -> None:
        document: dict[str, object] = {"alerting": {"rules": [RULE]}, "metrics": {"export_interval": "1h"}}
        for section, value in overrides.items():
            if section == "enabled":
                document["enabled"] = value
            else:
                document.setdefault(section, {})
                document[section] = {**document[section], "enabled": value}  # type: ignore[dict-item]
        self.path.write_text(yaml.safe_dump(document))

    def switch(self, overrides: dict[str, object]) -> None:
        self.write(overrides)
        assert self.pipeline.watcher is not None and self.pipeline.watcher.check()

    def serve(self) -> None:
        tracer = self.pipeline.tracer_provider.get_tracer("test")
        with tracer.start_as_current_span("GET /orders", kind=SpanKind.SERVER) as span:
            span.set_attribute("http.route", "/orders")
            span.set_attribute("http.response.status_code", 200)

    def red_requests(self) -> int:
        self.pipeline.force_flush()
        latest = self.metrics.collections[-1]
        return sum(p.count for _, p in points_in(latest, "http.server.request.duration"))

    def self_metric_names(self) -> set[str]:
        self.pipeline.force_flush()
        latest = self.metrics.collections[-1]
        return {n for n in ("ricecoder.self.queue.depth", "ricecoder.self.dropped") if points_in(latest, n)}

    def alerts_after_hot_scores(self) -> int:
        before = len(self.events("ricecoder.alert"))
        self.clock.advance(60)
        self.pipeline.hub.publish(AnomalyScores(at=self.clock(), scores={"latency": 0.9}))
        self.pipeline.hub.publish(AnomalyScores(at=self.clock(), scores={"latency": 0.1}))
        return len(self.events("ricecoder.alert")) - before

    def events(self, name: str) -> list[object]:
        self.pipeline.force_flush()
        return [r for r in self.logs.get_finished_logs() if r.log_record.event_name == name]


@pytest.fixture
def harness(tmp_path: Path, clean_env: Path) -> Iterator[Harness]:
    h = Harness(tmp_path / "ricecoder.yaml")
    yield h
    h.pipeline.shutdown()


def _threads(prefix: str) -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(prefix)]


def test_metrics_off_stops_red_metrics_and_frees_the_reader_thread_then_on_resumes(harness: Harness) -> None:
    harness.serve()
    assert harness.red_requests() == 1
    assert _threads("ricecoder-metrics-InMemoryMetricExporter")
    harness.switch({"metrics": False})
    assert not _threads("ricecoder-metrics-InMemoryMetricExporter")
    harness.serve()  # not counted: RED metrics are off
    harness.switch({"metrics": True})
    assert _threads("ricecoder-metrics-InMemoryMetricExporter")
    harness.serve()
    assert harness.red_requests() == 2


def test_anomaly_off_stops_feeding_the_detectors_then_on_resumes(harness: Harness) -> None:
    feeds: list[AnomalyScores] = []
    harness.pipeline.hub.subscribe(AnomalyScores, feeds.append)

    def fed() -> int:
        harness.serve()
        harness.pipeline.force_flush()
        return len(feeds)

    assert fed() == 1
    # The feed reads the metrics exporters' collections: no reader thread of its own.
    assert not _threads("ricecoder-metrics-AnomalyFeedExporter")
    harness.switch({"anomaly": False})
    assert "anomaly" not in harness.pipeline.running
    assert fed() == 1  # collections go on, the detectors are not fed
    harness.switch({"anomaly": True})
    assert fed() == 2


def test_alerting_off_ignores_scores_then_on_evaluates_again(harness: Harness) -> None:
    assert harness.alerts_after_hot_scores() == 2  # firing, then resolved
    harness.switch({"alerting": False})
    assert harness.alerts_after_hot_scores() == 0
    harness.switch({"alerting": True})
    assert harness.alerts_after_hot_scores() == 2


def test_self_telemetry_follows_the_master_switch(harness: Harness) -> None:
    assert "ricecoder.self.queue.depth" in harness.self_metric_names()
    harness.switch({"enabled": False})
    assert "self_telemetry" not in harness.pipeline.running
    harness.metrics.clear()
    harness.pipeline.force_flush()
    assert harness.metrics.collections == []  # a stopped reader does not collect, even on force_flush
    harness.switch({"enabled": True})
    assert "ricecoder.self.queue.depth" in harness.self_metric_names()


def test_the_master_switch_turns_every_capability_and_the_exporters_off_and_back_on(harness: Harness) -> None:
    everything = {c.name for c in harness.pipeline.capabilities}
    assert harness.pipeline.running == everything
    harness.switch({"enabled": False})
    assert harness.pipeline.running == set()
    assert not _threads("ricecoder-metrics-")
    harness.serve()
    harness.pipeline.force_flush()
    assert harness.spans.get_finished_spans() == ()  # nothing is exported while switched off
    assert harness.alerts_after_hot_scores() == 0
    harness.switch({"enabled": True})
    assert harness.pipeline.running == everything
    harness.serve()
    harness.pipeline.force_flush()
    assert [s.name for s in harness.spans.get_finished_spans()] == ["GET /orders"]
    assert harness.alerts_after_hot_scores() == 2


def test_each_change_is_a_config_event_and_a_rejected_one_says_why(harness: Harness) -> None:
    harness.switch({"anomaly": False})
    harness.path.write_text("metrics:\n  export_interval: 99999999999w\n")
    assert harness.pipeline.watcher is not None and not harness.pipeline.watcher.check()
    events = harness.events("ricecoder.config.changed")
    accepted = [e.log_record.attributes for e in events if e.log_record.attributes["ricecoder.config.accepted"]]
    rejected = [e.log_record.attributes for e in events if not e.log_record.attributes["ricecoder.config.accepted"]]
    assert [list(a["ricecoder.config.changed_paths"]) for a in accepted] == [["anomaly.enabled"]]
    assert len(rejected) == 1 and "metrics.export_interval" in rejected[0]["ricecoder.config.problems"][0]
