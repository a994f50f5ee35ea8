"""Hub events reach the store as log records and ``ricecoder-otel query logs --event NAME`` reads
them back by name through the ``logs_event_time`` index (no scan of the logs table, no sort)."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ricecoder_otel.cli import main
from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.kernel.events import AnomalyEpisode, ConfigChanged
from ricecoder_otel.pipeline import build_pipeline
from ricecoder_otel.store import open_store
from ricecoder_otel.store.exporters import LocalLogExporter


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith(("RICECODER_", "OTEL_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    yield


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    """A store holding application log records and the events a pipeline's hub published."""
    path = tmp_path / "telemetry.db"
    store = open_store(path)
    config = MonitoringConfig.model_validate({"store": {"location": str(path)}, "metrics": {"system_metrics": False}})
    pipeline = build_pipeline(
        config, set_global=False, store=store, span_exporters=[], metric_readers=[],
        log_exporters=[LocalLogExporter(store=store)], watch_config=False,
    )  # fmt: skip
    try:
        now = time.time()
        logger = pipeline.logger_provider.get_logger("shop")
        for n in range(50):
            logger.emit(body=f"order {n} placed")
        pipeline.hub.publish(AnomalyEpisode(at=now, series="latency{route=/a}", kind="level_shift", onset=now))
        pipeline.hub.publish(ConfigChanged(at=now, changed_paths=("anomaly.enabled",), source="ricecoder.yaml"))
        pipeline.hub.publish(AnomalyEpisode(at=now + 1, series="latency{route=/b}", kind="spike", onset=now))
        assert pipeline.force_flush()
    finally:
        pipeline.shutdown()
        store.close()
    return path


def _query(args: list[str], capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    assert main(["query", "logs", *args, "--json"]) == 0
    rows: list[dict[str, Any]] = json.loads(capsys.readouterr().out)["logs"]
    return rows


def test_each_event_name_returns_exactly_its_events_newest_first(
    store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    anomalies = _query(["--store", str(store_path), "--event", "ricecoder.anomaly"], capsys)
    assert [row["attributes"]["ricecoder.anomaly.series"] for row in anomalies] == [
        "latency{route=/b}", "latency{route=/a}",
    ]  # fmt: skip
    [changed] = _query(["--store", str(store_path), "--event", "ricecoder.config.changed"], capsys)
    assert changed["attributes"]["ricecoder.config.changed_paths"] == ["anomaly.enabled"]
    assert _query(["--store", str(store_path), "--event", "ricecoder.alert"], capsys) == []
    everything = _query(["--store", str(store_path), "--limit", "1000"], capsys)
    bodies = [row["body"] for row in everything]
    assert sorted(b for b in bodies if b.startswith("order ")) == sorted(f"order {n} placed" for n in range(50))
    assert len([row for row in everything if row["event_name"] == "ricecoder.anomaly"]) == 2


def test_the_event_filter_reads_through_the_event_name_index(
    store_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    statements: list[str] = []
    connect = sqlite3.connect

    def traced(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn: sqlite3.Connection = connect(*args, **kwargs)
        conn.set_trace_callback(statements.append)
        return conn

    monkeypatch.setattr(sqlite3, "connect", traced)  # the store's connections, read-only ones included
    for window in ([], ["--since", "1h"]):
        statements.clear()
        assert _query(["--store", str(store_path), "--event", "ricecoder.anomaly", *window], capsys)
        [select] = [s for s in statements if s.lstrip().upper().startswith("SELECT") and " FROM logs" in s]
        assert "event_name = 'ricecoder.anomaly'" in select  # the statement as SQLite ran it, values bound
        with sqlite3.connect(store_path) as conn:
            plan = " | ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + select))
        assert "USING INDEX logs_event_time (event_name=?" in plan, plan
        assert "SCAN" not in plan and "TEMP B-TREE" not in plan, plan
