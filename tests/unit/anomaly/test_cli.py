"""``ricecoder-otel anomaly eval``: table, JSON and clear errors."""

from __future__ import annotations

import argparse
import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ricecoder_otel.cli import anomaly

from .conftest import START, gaussian


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="ricecoder-otel")
    anomaly.register(parser.add_subparsers())
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


def write_csv(path: Path, rows: list[list[object]]) -> Path:
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


@pytest.fixture
def series_csv(tmp_path: Path) -> Path:
    values = gaussian(500)
    values[400] = 300.0
    rows: list[list[object]] = [["timestamp", "latency"]]
    rows += [[datetime.fromtimestamp(START + i * 60, UTC).isoformat(), f"{v:.3f}"] for i, v in enumerate(values)]
    return write_csv(tmp_path / "series.csv", rows)


def test_table_lists_the_episode(series_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["anomaly", "eval", str(series_csv), "--column", "latency"]) == 0
    out = capsys.readouterr().out
    assert "500 points scored" in out
    assert "spike" in out and "2026-01-01 06:40:00" in out


def test_json_has_episodes_and_every_score(series_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["anomaly", "eval", str(series_csv), "--column", "2", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["points"] == 500 and len(doc["scores"]) == 500
    [ep] = doc["episodes"]
    assert ep["kind"] == "spike" and ep["onset"] == START + 400 * 60 and ep["observed"] == 300.0
    assert doc["scores"][400]["score"] > 0.5


def test_an_episode_still_open_at_the_end_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    values = [*gaussian(300), 300.0, 300.0, 300.0]  # the file ends three points into a spike
    rows: list[list[object]] = [["timestamp", "value"], *([START + i * 60, v] for i, v in enumerate(values))]
    path = write_csv(tmp_path / "open.csv", rows)
    assert run(["anomaly", "eval", str(path), "--json"]) == 0
    [ep] = json.loads(capsys.readouterr().out)["episodes"]
    assert ep["end"] is None and ep["onset"] == START + 300 * 60 and ep["observed"] == 300.0


def test_bad_rows_are_reported_with_numbers_and_skipped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows: list[list[object]] = [["timestamp", "value"]]
    rows += [[START + i * 60, v] for i, v in enumerate(gaussian(100))]
    rows[11] = [START + 10 * 60, "n/a"]
    rows[21] = ["not-a-time", 5]
    rows[31] = [START + 30 * 60]
    rows[41] = [START + 40 * 60, ""]
    path = write_csv(tmp_path / "bad.csv", rows)
    assert run(["anomaly", "eval", str(path), "--json"]) == 0
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert [b["row"] for b in doc["bad_rows"]] == [12, 22, 32]
    assert "row 12: bad value 'n/a'" in captured.err
    assert "row 22: bad timestamp 'not-a-time'" in captured.err
    assert doc["points"] == 97 and doc["missing"] == 1


def test_headerless_file_uses_first_two_columns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_csv(tmp_path / "plain.csv", [[START + i * 60, v] for i, v in enumerate(gaussian(50))])
    assert run(["anomaly", "eval", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["points"] == 50


def test_missing_file_and_column_are_clear_errors(series_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["anomaly", "eval", str(series_csv.parent / "nope.csv")]) == 2
    assert "nope.csv: no such file" in capsys.readouterr().err
    assert run(["anomaly", "eval", str(series_csv), "--column", "value"]) == 2
    err = capsys.readouterr().err
    assert "value column 'value' not found" in err and "timestamp, latency" in err
    assert run(["anomaly", "eval", str(series_csv), "--column", "9"]) == 2
    assert "out of range" in capsys.readouterr().err


def test_empty_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("")
    assert run(["anomaly", "eval", str(path)]) == 2
    assert "the file is empty" in capsys.readouterr().err
