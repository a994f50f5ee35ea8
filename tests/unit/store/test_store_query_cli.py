"""``ricecoder-otel query``: tables, JSON, windows, the configured store, read-only, clear errors."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import socket
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ricecoder_otel.cli import main
from ricecoder_otel.store import StoreReadOnlyError, open_store
from tests.harness.store_rows import NO_RETENTION, SECOND, histogram, log, point, span


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No RICECODER_* variable of the machine leaks in; the default store is under tmp_path."""
    for name in list(os.environ):
        if name.startswith(("RICECODER_", "OTEL_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    yield


def _reject_constant(name: str) -> None:
    raise AssertionError(f"not strict JSON: {name}")


def _strict_json(text: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(text, parse_constant=_reject_constant)
    return data


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


# --- strict JSON ------------------------------------------------------------------------------


def test_json_output_is_strict_when_stored_values_are_not_finite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "nan.db"
    now = time.time_ns()
    nan, inf = float("nan"), float("inf")
    with open_store(path, retention=NO_RETENTION) as store:
        store.write_metric_points(
            [
                dataclasses.replace(point(0, at=now), value=inf, attributes={"ratio": nan, "peak": -inf}),
                dataclasses.replace(histogram(1), time_ns=now - SECOND, sum=-inf),
            ]
        )
        store.write_logs([log(0, at=now)])
    # Stores written before encode_json became strict hold NaN in their JSON text.
    with sqlite3.connect(path) as conn:
        conn.execute("""UPDATE logs SET attributes = '{"load":NaN,"nested":[Infinity]}'""")
    conn.close()

    assert main(["query", "metrics", "--json", "--store", str(path)]) == 0
    metrics = _strict_json(capsys.readouterr().out)["metrics"]
    assert isinstance(metrics, list)
    assert metrics[0]["value"] is None and metrics[0]["attributes"] == {"ratio": None, "peak": None}
    assert metrics[1]["sum"] is None and metrics[1]["count"] == 3

    assert main(["query", "logs", "--json", "--store", str(path)]) == 0
    [row] = _strict_json(capsys.readouterr().out)["logs"]
    assert row["attributes"] == {"load": None, "nested": [None]}


# --- the configured store -----------------------------------------------------------------------


def test_the_store_comes_from_the_config_file(
    store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "ricecoder.yaml"
    config.write_text(f"store:\n  location: {store_path}\n")
    monkeypatch.setenv("RICECODER_CONFIG_FILE", str(config))
    assert main(["query", "spans"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"3 spans, newest first, from {store_path}"
    assert not (tmp_path / "xdg").exists()  # the default store was neither read nor created


def test_the_store_location_variable_wins_over_the_file_and_store_wins_over_both(
    store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "ricecoder.yaml"
    config.write_text(f"store:\n  location: {tmp_path / 'from-file.db'}\n")
    monkeypatch.setenv("RICECODER_CONFIG_FILE", str(config))
    monkeypatch.setenv("RICECODER_STORE__LOCATION", str(store_path))
    assert main(["query", "logs"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"3 log records, newest first, from {store_path}"

    other = tmp_path / "other.db"
    with open_store(other) as store:
        store.write_logs([log(0, at=time.time_ns())])
    assert main(["query", "logs", "--store", str(other)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"1 log record, newest first, from {other}"


def test_an_invalid_configuration_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "ricecoder.yaml"
    config.write_text("store:\n  max_size_mb: -1\n")
    monkeypatch.setenv("RICECODER_CONFIG_FILE", str(config))
    assert main(["query", "spans"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ricecoder-otel query: invalid configuration (1 problem):")
    assert "store.max_size_mb" in err and "Traceback" not in err


def test_a_keyword_dsn_from_the_environment_reaches_postgres_masked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RICECODER_STORE_DSN", f"host=127.0.0.1 port={port} dbname=t user=app password=hunter2")
    assert main(["query", "spans"]) == 1
    err = capsys.readouterr().err
    assert f"cannot reach PostgreSQL at host=127.0.0.1 port={port} dbname=t user=app password=********" in err
    assert "hunter2" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no file named after the DSN


# --- read-only --------------------------------------------------------------------------------


def _fill(directory: Path) -> None:
    """Write until the file system says ENOSPC (unbuffered, so closing has nothing left to flush)."""
    with open(directory / "filler", "wb", buffering=0) as handle, pytest.raises(OSError, match="No space left"):
        while True:
            handle.write(b"\0" * 4096)


def test_a_store_on_a_full_disk_can_be_queried(tiny_fs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tiny_fs / "telemetry.db"
    with open_store(path, retention=NO_RETENTION) as store:
        store.write_spans([span(i, at=time.time_ns() - i * SECOND) for i in range(3)])
    _fill(tiny_fs)
    before = path.read_bytes()

    assert main(["query", "spans", "--store", str(path)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"3 spans, newest first, from {path}"
    assert path.read_bytes() == before


def test_a_store_on_read_only_media_can_be_queried(
    tmp_path: Path, remountable_fs: Callable[[bool], None], capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "media" / "telemetry.db"
    with open_store(path, retention=NO_RETENTION) as store:
        store.write_logs([log(0, at=time.time_ns())])
    remountable_fs(True)
    assert main(["query", "logs", "--json", "--store", str(path)]) == 0
    assert len(_strict_json(capsys.readouterr().out)["logs"]) == 1


def test_querying_never_writes_the_database_file(store_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def fingerprint() -> tuple[int, str]:
        return store_path.stat().st_mtime_ns, hashlib.sha256(store_path.read_bytes()).hexdigest()

    before = fingerprint()
    for kind in ("spans", "metrics", "logs"):
        assert main(["query", kind, "--store", str(store_path)]) == 0
    capsys.readouterr()
    assert fingerprint() == before


def test_a_file_without_our_tables_is_reported_and_not_migrated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    assert main(["query", "spans", "--store", str(empty)]) == 1
    assert f"no store at {empty}: the file holds no ricecoder-otel tables" in capsys.readouterr().err
    assert empty.stat().st_size == 0
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE unrelated (x)").connection.close()
    assert main(["query", "logs", "--store", str(other)]) == 1
    assert "holds no ricecoder-otel tables" in capsys.readouterr().err


def test_a_read_only_store_refuses_writes(store_path: Path) -> None:
    with open_store(store_path, read_only=True) as store:
        assert len(store.query_logs()) == 3
        with pytest.raises(StoreReadOnlyError, match="opened read-only"):
            store.write_logs([log(9)])
        with pytest.raises(StoreReadOnlyError, match="opened read-only"):
            store.enforce_retention()
    with open_store(store_path, read_only=True) as store:
        assert len(store.query_logs()) == 3


# --- control characters -------------------------------------------------------------------------


def test_control_characters_in_stored_fields_are_shown_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "evil.db"
    now = time.time_ns()
    with open_store(path) as store:
        store.write_spans(
            [dataclasses.replace(span(0, at=now), name="GET /\x1b[2J\x1b]0;pwned\x07", service_name="s\rx")]
        )
        store.write_metric_points([dataclasses.replace(point(0, at=now), attributes={"k\x1b[31m": "v\u202eabc"})])
        store.write_logs([dataclasses.replace(log(0, at=now), body="line1\nline2\x9b1m", event_name="e\x00")])

    outputs = []
    for kind in ("spans", "metrics", "logs"):
        assert main(["query", kind, "--store", str(path)]) == 0
        outputs.append(capsys.readouterr().out)
    spans, metrics, logs = outputs
    for out in outputs:
        assert not any(ch in out for ch in "\x1b\x07\r\x00\x9b\u202e"), repr(out)
    assert "GET /\\x1b[2J\\x1b]0;pwned\\x07" in spans and "s\\rx" in spans
    assert "k\\x1b[31m=v\\u202eabc" in metrics
    assert "line1\\nline2\\x9b1m" in logs and "e\\x00" in logs
    assert len(logs.splitlines()) == 4  # header, one row, blank, footer: the newline did not split the row


def test_logs_filter_by_event_name(store_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "logs", "--store", str(store_path), "--event", "checkout.completed", "--json"]) == 0
    rows = _strict_json(capsys.readouterr().out)["logs"]
    assert [row["body"] for row in rows] == ["message 1"]
    assert main(["query", "logs", "--store", str(store_path), "--event", "ricecoder.alert", "--json"]) == 0
    assert _strict_json(capsys.readouterr().out)["logs"] == []
