"""`ricecoder-otel dashboard`: exit codes, --json, exports from a store filled by the real pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ricecoder_otel.cli import main
from ricecoder_otel.store.sqlite import SQLiteStore
from tests.unit.dashboards.support import StoredPipeline


def test_list_and_show(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dashboard", "list", "--json"]) == 0
    assert [d["uid"] for d in json.loads(capsys.readouterr().out)] == [
        "service-overview", "system", "anomalies-alerts", "errors", "performance", "analytics", "compliance",
    ]  # fmt: skip
    assert main(["dashboard", "show", "system"]) == 0
    assert "gauge    System memory used: last(system.memory.utilization)" in capsys.readouterr().out
    assert main(["dashboard", "show", "nope"]) == 2
    assert "no dashboard 'nope'" in capsys.readouterr().err


def test_check_exit_codes_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text("uid: g\ntitle: G\npanels:\n  - {id: a, type: stat, grid: {x: 0, y: 0, w: 6, h: 4}, "
                    "queries: [{metric: my.metric}]}\n")  # fmt: skip
    bad.write_text("uid: b\ntitle: B\npanels:\n  - {id: a, type: pie, grid: {x: 0, y: 0, w: 6, h: 4}}\n")
    assert main(["dashboard", "check", str(good)]) == 0  # an unknown metric is a warning
    assert "warning: panels[0].queries[0].metric (line 4)" in capsys.readouterr().out
    assert main(["dashboard", "check", str(bad), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is False and report["problems"][0]["path"] == "panels[0].type"


def test_exports_json_and_html_from_the_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = SQLiteStore(tmp_path / "telemetry.db")
    running = StoredPipeline(store)
    try:
        for _ in range(2):
            running.request("/orders", 0.02)
            running.collect()
    finally:
        running.close()
        store.close()
    location = str(tmp_path / "telemetry.db")
    assert main(["dashboard", "export", "service-overview", "--store", location, "--since", "1h"]) == 0
    snapshot = json.loads(capsys.readouterr().out)
    assert (
        snapshot["format"] == "ricecoder.dashboard.snapshot/v1" and snapshot["dashboard"]["uid"] == "service-overview"
    )
    assert snapshot["options"]["route"] == ["/orders"]
    out = tmp_path / "overview.html"
    assert main(["dashboard", "export", "service-overview", "--format", "html", "--store", location,
                 "--var", "route=/orders", "--out", str(out)]) == 0  # fmt: skip
    text = out.read_text()
    assert text.startswith("<!DOCTYPE html>") and "uPlot" in text and '"route":"/orders"' in text
    assert main(["dashboard", "export", "--all", "--format", "html", "--store", location,
                 "--out", str(tmp_path / "all")]) == 0  # fmt: skip
    assert sorted(p.name for p in (tmp_path / "all").iterdir()) == [
        "analytics.html", "anomalies-alerts.html", "compliance.html", "errors.html", "performance.html",
        "service-overview.html", "system.html"]  # fmt: skip


def test_a_missing_store_is_exit_1_with_the_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dashboard", "export", "system", "--store", str(tmp_path / "nothing.db")]) == 1
    assert "no store at" in capsys.readouterr().err
    assert main(["dashboard", "export", "--format", "json"]) == 2


def test_an_unreachable_postgresql_is_exit_1_with_the_reason_and_no_password(
    capsys: pytest.CaptureFixture[str],
) -> None:
    location = "postgresql://app:hunter2secret@127.0.0.1:1/telemetry"  # nothing listens on port 1
    for command in (["serve", "--port", "0"], ["export", "service-overview", "--format", "html"]):
        assert main(["dashboard", *command, "--store", location]) == 1
        err = capsys.readouterr().err
        assert "cannot reach PostgreSQL at postgresql://app:********@127.0.0.1:1/telemetry" in err
        assert "hunter2secret" not in err
