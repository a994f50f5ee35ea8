"""The pipeline built in-process (not installed globally), exporting to a real SQLite store."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from opentelemetry.trace import SpanKind

from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.pipeline import CONFIG_CHANGED_EVENT, build_pipeline, load_startup_config
from ricecoder_otel.store import open_store, set_default_store


def _serve(pipeline: object, route: str, status: int = 200) -> None:
    tracer = pipeline.tracer_provider.get_tracer("test")  # type: ignore[attr-defined]
    with tracer.start_as_current_span(f"GET {route}", kind=SpanKind.SERVER) as span:
        span.set_attribute("http.route", route)
        span.set_attribute("http.request.method", "GET")
        span.set_attribute("http.response.status_code", status)


def test_spans_red_metrics_self_telemetry_and_logs_reach_the_store(clean_env: Path) -> None:
    pipeline = build_pipeline(MonitoringConfig(service_name="unit"), set_global=False)
    try:
        for status in (200, 500) * 10:  # enough calls for the sampled processor timing
            _serve(pipeline, "/orders", status)
        pipeline.logger_provider.get_logger("t").emit(body="hello", severity_text="INFO")
        assert pipeline.force_flush()
    finally:
        pipeline.shutdown()
        set_default_store(None)
    with open_store(str(clean_env)) as store:
        spans = store.query_spans()
        names = {p.name for p in store.query_metrics(limit=10_000)}
        logs = store.query_logs()
    assert len(spans) == 20 and {s.name for s in spans} == {"GET /orders"}
    assert spans[0].service_name == "unit"
    assert {"http.server.request.duration", "ricecoder.http.server.errors", "ricecoder.self.processor.time"} <= names
    assert [log.body for log in logs if not log.event_name] == ["hello"]  # besides capabilities' events


def test_a_config_file_change_is_applied_live_and_recorded(clean_env: Path, tmp_path: Path) -> None:
    path = tmp_path / "ricecoder.yaml"
    path.write_text("metrics:\n  cardinality_limit: 100\n")
    config = load_startup_config_from(path)
    pipeline = build_pipeline(config, config_path=path, set_global=False)
    try:
        assert pipeline.limiter.limit == 100
        path.write_text("metrics:\n  cardinality_limit: 5\n  red_metrics: false\n")
        assert pipeline.watcher.check()
        assert pipeline.limiter.limit == 5
        red = pipeline.capability("metrics").red  # type: ignore[attr-defined]
        assert red.enabled is False
        assert pipeline.config.metrics.cardinality_limit == 5
        pipeline.force_flush()
    finally:
        pipeline.shutdown()
        set_default_store(None)
    with open_store(str(clean_env)) as store:
        events = [log for log in store.query_logs() if log.event_name == CONFIG_CHANGED_EVENT]
    assert len(events) == 1
    assert set(events[0].attributes["ricecoder.config.changed_paths"]) == {
        "metrics.cardinality_limit", "metrics.red_metrics"
    }


def test_an_invalid_change_is_rejected_and_the_running_config_stays(
    clean_env: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "ricecoder.yaml"
    path.write_text("metrics:\n  cardinality_limit: 100\n")
    pipeline = build_pipeline(load_startup_config_from(path), config_path=path, set_global=False)
    try:
        path.write_text("metrics:\n  cardinality_limit: -3\n  cardinalty: 1\n")
        with caplog.at_level(logging.WARNING):
            assert not pipeline.watcher.check()
        assert pipeline.limiter.limit == 100
        assert "metrics.cardinality_limit" in caplog.text and "did you mean" in caplog.text
    finally:
        pipeline.shutdown()
        set_default_store(None)


def test_a_broken_config_at_start_up_falls_back_to_defaults_loudly(
    clean_env: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("metrics: [unclosed\n")
    monkeypatch.setenv("RICECODER_CONFIG_FILE", str(path))
    with caplog.at_level(logging.ERROR):
        config = load_startup_config()
    assert config == MonitoringConfig()
    assert "invalid configuration, running with defaults" in caplog.text
    assert str(path) in caplog.text


def load_startup_config_from(path: Path) -> MonitoringConfig:
    from ricecoder_otel.config import load_config

    return load_config(path)
