"""Reports as JSON, CSV, Markdown and HTML; the CLI's exit codes."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from ricecoder_otel.analytics import reports
from ricecoder_otel.analytics.render import render
from ricecoder_otel.analytics.reports import Column, Report
from ricecoder_otel.cli import main as cli
from tests.unit.analytics.scenario import D0, END, config, engine, feed


def adoption() -> Report:
    core = engine()
    feed(core)
    return reports.adoption(core.snapshot(), D0, END, min_uses=2)


def test_json_has_typed_columns_and_rows_that_load_as_records() -> None:
    doc = json.loads(render(adoption(), "json"))
    assert doc["kind"] == "adoption" and (doc["since"], doc["until"]) == ("2024-01-01", "2024-01-16")
    assert [c["name"] for c in doc["columns"]][:4] == ["feature", "active_users", "users", "adoption"]
    assert {c["type"] for c in doc["columns"]} <= {"string", "integer", "number", "date"}
    assert doc["rows"][0]["feature"] == "export" and doc["rows"][0]["median_seconds_to_first_use"] == 83400.0


def test_csv_header_is_the_column_names_and_missing_numbers_are_empty() -> None:
    core = engine()
    feed(core)
    report = reports.funnel(core.snapshot(), ["search", "export"], 86_400, D0, END)
    rows = list(csv.DictReader(io.StringIO(render(report, "csv"))))
    assert list(rows[0]) == [c.name for c in report.columns]
    assert rows[0]["median_seconds_from_previous"] == "" and float(rows[1]["median_seconds_from_previous"]) == 83400


def test_html_and_markdown_escape_what_they_print() -> None:
    report = Report("segments", D0, END, (Column("segment", "string"),), [{"segment": "<script>|x"}])
    page = render(report, "html")
    assert "<script>|x" not in page and "&lt;script&gt;|x" in page
    assert "\\|x" in render(report, "md")


def test_every_kind_builds_and_unknown_ones_are_named() -> None:
    core = engine()
    feed(core)
    for kind in reports.REPORT_KINDS:
        assert reports.build(kind, core.snapshot(), config(), D0, END).kind == kind
    with pytest.raises(ValueError, match="unknown report 'nope'"):
        reports.build("nope", core.snapshot(), config(), D0, END)
    with pytest.raises(ValueError, match="unknown funnel 'x'; configured: buy"):
        reports.build("funnel", core.snapshot(), config(), D0, END, funnel_name="x")


def test_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = str(tmp_path / "none.db")
    assert cli(["analytics", "report", "adoption", "--store", missing]) == 1
    assert "none.db" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:
        cli(["analytics", "report", "adoption", "--since", "yesterday"])
    assert usage.value.code == 2
