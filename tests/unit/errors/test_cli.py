"""``ricecoder-otel errors list|show|resolve`` against a store the tracker wrote."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest

from ricecoder_otel.cli import main
from ricecoder_otel.errors.engine import ErrorEngine, Occurrence
from ricecoder_otel.errors.store import ErrorStore, StoredSample
from ricecoder_otel.store import open_store
from ricecoder_otel.testing import ManualClock

STACK = 'Traceback (most recent call last):\n  File "/srv/shop/app.py", line 3, in pay\n    x()\nTimeoutError: late\n'


@pytest.fixture
def store_path(tmp_path: Path) -> str:
    path = str(tmp_path / "telemetry.db")
    engine = ErrorEngine(clock=ManualClock(), release="shop@3")
    now = time.time()
    samples = []
    for n, (kind, user) in enumerate([("TimeoutError", "ann")] * 5 + [("KeyError", "bob")] * 2):
        occurrence = Occurrence(str(uuid.uuid4()), kind, f"order {n} \x1b[2J", STACK if kind == "TimeoutError" else "",
                                now - 60 + n, user_id=user, trace_id=f"{n:032x}")  # fmt: skip
        outcome = engine.record(occurrence)
        assert outcome is not None
        samples.append(StoredSample.of(outcome.group.id, occurrence))
    with open_store(path) as store:
        ErrorStore(store).write(engine.drain_pending(), samples, [])
    return path


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_list_show_resolve(store_path: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["errors", "list", "--store", store_path, "--since", "1h", "--json"], capsys)
    groups = json.loads(out)["groups"]
    assert code == 0 and [(g["error_type"], g["count"], g["users"]) for g in groups] == [
        ("TimeoutError", 5, 1),
        ("KeyError", 2, 1),
    ]
    code, table, _ = run(["errors", "list", "--store", store_path], capsys)
    assert code == 0 and table.splitlines()[0].split()[:3] == ["ID", "COUNT", "USERS"]
    assert "\x1b" not in table and "\\x1b" in table  # stored text cannot drive the terminal

    top = groups[0]["id"]
    code, shown, _ = run(["errors", "show", top[:8], "--store", store_path], capsys)
    assert code == 0 and 'File "/srv/shop/app.py", line 3, in pay' in shown
    assert "linked traces" in shown and f"{4:032x}" in shown and "release     shop@3" in shown
    code, shown_json, _ = run(["errors", "show", top, "--store", store_path, "--json"], capsys)
    data = json.loads(shown_json)
    assert len(data["samples"]) == 5 and len(data["trace_ids"]) == 5

    code, out, _ = run(["errors", "resolve", top, "--store", store_path], capsys)
    assert code == 0 and out.startswith(f"resolved {top}")
    code, out, _ = run(["errors", "list", "--store", store_path, "--json"], capsys)
    assert json.loads(out)["groups"][0]["status"] == "resolved"


def test_unknown_group_missing_store_and_bad_arguments(store_path: str, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    assert run(["errors", "show", "ffffffff", "--store", store_path], capsys)[0] == 1
    code, _, err = run(["errors", "resolve", "abc", "--store", str(tmp_path / "none.db")], capsys)
    assert code == 1 and "no store" in err and not (tmp_path / "none.db").exists()
    with pytest.raises(SystemExit) as exit_info:
        main(["errors", "list", "--since", "soon"])
    assert exit_info.value.code == 2
    code, out, _ = run(["errors", "list", "--store", store_path, "--since", "1s"], capsys)
    assert code == 0 and out.startswith("no error groups")
