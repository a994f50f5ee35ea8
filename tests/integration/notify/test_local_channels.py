"""The console channel prints one line per notification; the file channel appends the Alertmanager v4
body plus the message id as one JSON line to a 0600 file, and a path it cannot write is a retried failure."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from tests.integration.notify.conftest import notification


def test_console_prints_one_line_per_notification(make_outbox: Any, capsys: pytest.CaptureFixture[str]) -> None:
    outbox = make_outbox([{"name": "con", "type": "console"}, {"name": "out", "type": "console", "stream": "stdout"}])
    first = outbox.queue("con", notification())
    second = outbox.queue("out", notification("resolved"))
    assert outbox.worker.run_once() == 2
    captured = capsys.readouterr()
    group = '{}:{alertname="HighErrorRate"}'
    assert captured.err == f"[ricecoder-otel] [FIRING:1] HighErrorRate (HighErrorRate) group={group}\n"
    assert captured.out == f"[ricecoder-otel] [RESOLVED] HighErrorRate (HighErrorRate) group={group}\n"
    assert [outbox.state(m).state for m in (first, second)] == ["delivered", "delivered"]


def test_file_appends_v4_json_lines(make_outbox: Any, tmp_path: Path) -> None:
    path = tmp_path / "alerts.jsonl"
    outbox = make_outbox([{"name": "f", "type": "file", "path": str(path)}])
    ids = [outbox.queue("f", notification()), outbox.queue("f", notification("resolved"))]
    while outbox.worker.run_once():
        pass
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["id"] for line in lines] == ids
    assert [line["status"] for line in lines] == ["firing", "resolved"]
    assert lines[0] == {"id": ids[0], **notification().to_v4()}
    assert lines[0]["version"] == "4" and lines[0]["groupKey"] == '{}:{alertname="HighErrorRate"}'
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_a_file_it_cannot_write_is_retried(make_outbox: Any, tmp_path: Path) -> None:
    path = tmp_path / "missing-dir" / "alerts.jsonl"
    outbox = make_outbox([{"name": "f", "type": "file", "path": str(path)}])
    msg = outbox.queue("f", notification())
    outbox.worker.run_once()
    row = outbox.state(msg)
    assert row.state == "pending" and row.last_error.startswith(f"cannot append to {path}")
    path.parent.mkdir()
    outbox.clock.advance(row.next_attempt_ns / 1e9 - outbox.clock())
    assert outbox.worker.run_once() == 1
    assert outbox.state(msg).state == "delivered" and len(path.read_text().splitlines()) == 1
