"""What every command prints: strict JSON for machines, escaped control characters for people."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ricecoder_otel.cli import main
from ricecoder_otel.cli._util import print_json, printable
from ricecoder_otel.cli.demo import _print_summary


def _reject_constant(name: str) -> None:
    raise AssertionError(f"not strict JSON: {name}")


def _strict(text: str) -> object:
    return json.loads(text, parse_constant=_reject_constant)


def test_print_json_turns_non_finite_floats_into_null_everywhere(capsys: pytest.CaptureFixture[str]) -> None:
    nan, inf = float("nan"), float("inf")
    print_json({"a": nan, "b": [inf, (1.5, -inf)], "c": {"d": {nan}}, 2: Path("/x"), None: True})
    assert _strict(capsys.readouterr().out) == {
        "a": None,
        "b": [None, [1.5, None]],
        "c": {"d": [None]},
        "2": "/x",  # default=str still applies
        "null": True,
    }


def test_print_json_compact_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    print_json({"v": [float("nan"), 1]}, compact=True)
    assert capsys.readouterr().out == '{"v":[null,1]}\n'


def test_anomaly_eval_json_is_strict_when_the_csv_has_nan_and_inf(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "series.csv"
    rows = [f"{60 * i},{1 + (i % 3) / 10}" for i in range(50)]
    rows[20] = "1200,nan"
    rows[30] = "1800,inf"
    csv.write_text("timestamp,value\n" + "\n".join(rows) + "\n")
    assert main(["anomaly", "eval", str(csv), "--json"]) == 0
    doc = _strict(capsys.readouterr().out)
    assert isinstance(doc, dict) and doc["points"] == 50
    assert doc["scores"][20]["value"] is None and doc["scores"][30]["value"] is None


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("GET /\x1b[2J", "GET /\\x1b[2J"),
        ("a\nb\tc\rd\x00", "a\\nb\\tc\\rd\\x00"),
        ("\x07\x7f\x9b", "\\x07\\x7f\\x9b"),
        ("abc\u202edef\u2066", "abc\\u202edef\\u2066"),
        ("café ünïcode 日本", "café ünïcode 日本"),  # printable text is untouched
    ],
)
def test_printable_escapes_control_characters(raw: str, shown: str) -> None:
    assert printable(raw) == shown


def test_anomaly_errors_escape_what_the_csv_holds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = tmp_path / "series.csv"
    csv.write_text("timestamp,val\x1b[2Jue\n0,1\n")
    assert main(["anomaly", "eval", str(csv)]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and "val\\x1b[2Jue" in err


def test_the_demo_summary_escapes_its_strings(capsys: pytest.CaptureFixture[str]) -> None:
    _print_summary(
        {
            "requests_sent": 1,
            "responses_by_status": {"200": 1},
            "spans": 1,
            "metric_series": 1,
            "logs": 1,
            "anomaly_events": 0,
            "store": "/tmp/evil\x1b[2J.db",
            "prometheus_endpoint": "http://127.0.0.1:1/metrics",
            "prometheus_series_at_end": 1,
            "app_log": "/tmp/app.log",
        }
    )
    out = capsys.readouterr().out
    assert "\x1b" not in out and "/tmp/evil\\x1b[2J.db" in out
