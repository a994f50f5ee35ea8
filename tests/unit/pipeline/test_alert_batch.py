"""One rule evaluation's transitions are published once each, as one hub batch."""

from __future__ import annotations

from pathlib import Path

from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter

from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.kernel.events import AlertTransition, AnomalyScores
from ricecoder_otel.pipeline import build_pipeline
from ricecoder_otel.testing import ManualClock

RULE = {"name": "hot", "kind": "anomaly", "metric": "latency", "threshold": 0.5, "severity": "critical"}


def test_a_burst_is_one_batch_and_each_transition_one_event_and_one_log_record(clean_env: Path) -> None:
    logs = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
    clock = ManualClock()
    config = MonitoringConfig.model_validate({"alerting": {"rules": [RULE]}, "metrics": {"system_metrics": False}})
    pipeline = build_pipeline(
        config, set_global=False, span_exporters=[], metric_readers=[], log_exporters=[logs], clock=clock,
        watch_config=False,
    )  # fmt: skip
    try:
        batches: list[tuple[str, ...]] = []
        singles: list[str] = []
        pipeline.hub.subscribe_batch(AlertTransition, lambda ts: batches.append(tuple(t.series for t in ts)))
        pipeline.hub.subscribe(AlertTransition, lambda t: singles.append(t.series))
        clock.advance(60)
        pipeline.hub.publish(AnomalyScores(at=clock(), scores={"latency{route=/a}": 0.9, "latency{route=/b}": 0.8}))
        pipeline.hub.publish(AnomalyScores(at=clock(), scores={"latency{route=/a}": 0.1, "latency{route=/b}": 0.9}))
        assert pipeline.force_flush()
        assert batches == [("latency{route=/a}", "latency{route=/b}"), ("latency{route=/a}",)]
        assert singles == ["latency{route=/a}", "latency{route=/b}", "latency{route=/a}"]
        records = [r.log_record for r in logs.get_finished_logs() if r.log_record.event_name == "ricecoder.alert"]
        assert [(r.attributes or {})["ricecoder.alert.state"] for r in records] == ["firing", "firing", "resolved"]
    finally:
        pipeline.shutdown()
