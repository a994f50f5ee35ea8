"""``ricecoder-otel query``: tables, JSON, windows and clear errors."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest

from ricecoder_otel.cli import main
from ricecoder_otel.store import open_store
from tests.harness.store_rows import NO_RETENTION, SECOND, histogram, log, point, span


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    """A store with two recent and one hour-old row of each signal."""
    path = tmp_path / "telemetry.db"
    now = time.time_ns()
    with open_store(path, retention=NO_RETENTION) as store:
        store.write_spans(
            [span(0, at=now - 3600 * SECOND, name="GET /old"), span(1, at=now - 5 * SECOND), span(2, at=now - SECOND)]
        )
        store.write_metric_points([point(0, at=now - 3600 * SECOND), point(1, at=now - SECOND), histogram(2)])
        store.write_logs(
            [log(0, at=now - 3600 * SECOND, severity=17), log(1, at=now - SECOND), log(2, at=now, severity=13)]
        )
    return path


def test_spans_print_as_a_table_newest_first(store_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "spans", "--store", str(store_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["START", "(UTC)", "DURATION", "STATUS", "KIND", "SERVICE", "NAME", "TRACE", "ID"]
    assert "GET /old" in lines[3] and "5.0ms" in lines[1]
    assert lines[-1] == f"3 spans, newest first, from {store_path}"


def test_since_limits_the_window(store_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "spans", "--since", "10m", "--store", str(store_path)]) == 0
    out = capsys.readouterr().out
    assert "GET /old" not in out
    assert out.splitlines()[-1] == f"2 spans in the last 10m, newest first, from {store_path}"


def test_json_output_is_one_object_with_the_rows(store_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "logs", "--json", "--min-severity", "warn", "--store", str(store_path)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["store"] == str(store_path) and data["since_ns"] is None
    assert [row["severity_number"] for row in data["logs"]] == [13, 17]


def test_metrics_show_values_and_histograms(store_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "metrics", "--limit", "2", "--store", str(store_path)]) == 0
    out = capsys.readouterr().out
    assert "requests" in out and "http.route=/a" in out
    assert out.splitlines()[-1] == f"2 metric points, newest first, from {store_path}"
    assert main(["query", "metrics", "--name", "http.server.request.duration", "--store", str(store_path)]) == 0
    assert "count=3 sum=0.75" in capsys.readouterr().out


def test_an_empty_window_says_so(store_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "spans", "--name", "GET /nothing", "--store", str(store_path)]) == 0
    assert capsys.readouterr().out.strip() == f"no spans in {store_path}"


def test_the_default_store_comes_from_the_environment(
    store_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RICECODER_STORE_PATH", str(store_path))
    assert main(["query", "logs"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"3 log records, newest first, from {store_path}"


@pytest.mark.parametrize("since", ["ten", "-5m", "5 parsecs"])
def test_a_bad_since_is_a_usage_error(since: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["query", "spans", f"--since={since}"])
    assert exit_info.value.code == 2
    assert f"argument --since: expected a duration like 10m, got {since!r}" in capsys.readouterr().err


def test_a_missing_store_is_reported_and_not_created(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "none" / "telemetry.db"
    assert main(["query", "spans", "--store", str(missing)]) == 1
    assert f"no store at {missing}: nothing has been recorded there yet" in capsys.readouterr().err
    assert not missing.exists()


def test_a_corrupt_store_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "telemetry.db"
    path.write_bytes(b"junk" * 2000)
    assert main(["query", "metrics", "--store", str(path)]) == 1
    assert "is not a readable SQLite store" in capsys.readouterr().err


def test_an_unreachable_postgres_is_reported_without_its_password(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert main(["query", "spans", "--store", f"postgresql://app:hunter2@127.0.0.1:{port}/t"]) == 1
    err = capsys.readouterr().err
    assert f"cannot reach PostgreSQL at postgresql://app:********@127.0.0.1:{port}/t" in err
    assert "hunter2" not in err
