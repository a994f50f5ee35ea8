"""``ricecoder-otel audit verify|export``: exit codes, JSON, proofs that check out."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from ricecoder_otel.cli import main
from ricecoder_otel.compliance.audit import AuditJournal
from ricecoder_otel.compliance.audit.engine import CheckpointPolicy, record_fields, verify_inclusion
from ricecoder_otel.compliance.audit.journal import JOURNAL

KEY = "cli-checkpoint-key-of-32-characters"


@pytest.fixture
def journal_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RICECODER_COMPLIANCE__AUDIT__CHECKPOINT_KEY", KEY)
    monkeypatch.delenv("RICECODER_CONFIG_FILE", raising=False)
    directory = tmp_path / "audit"
    journal = AuditJournal(directory, key=KEY.encode(), clock=lambda: 1.7e9, policy=CheckpointPolicy(3, 60))
    for i in range(7):
        journal.append(record_fields(ts=1.7e9 + i * 86400, actor="a", action="x", resource=f"r/{i}", outcome="ok"))
    journal.append(record_fields(ts=1.7e9 + 7 * 86400, actor="a", action="x", resource="r/7", outcome="ok"))
    return directory  # not closed: records 7 and 8 stay unsigned


def test_verify_reports_an_intact_journal(journal_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "verify", "--dir", str(journal_dir), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True and report["records"] == 8 and report["checkpoints"] == 2 and report["unsigned"] == 2
    assert main(["audit", "verify", "--dir", str(journal_dir), "--deep"]) == 0
    assert "OK" in capsys.readouterr().out


def test_verify_names_the_first_bad_sequence_number(journal_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = journal_dir / JOURNAL
    path.write_bytes(path.read_bytes().replace(b'"resource":"r/3"', b'"resource":"r/9"'))
    assert main(["audit", "verify", "--dir", str(journal_dir), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["first_bad_seq"] == 4
    assert main(["audit", "verify", "--dir", str(journal_dir)]) == 1
    assert "TAMPERED at sequence number 4" in capsys.readouterr().out


def test_verify_with_worker_processes_reports_what_one_process_does(
    journal_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "verify", "--dir", str(journal_dir), "--json", "--jobs", "2"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True and report["records"] == 8 and report["jobs"] == 2
    path = journal_dir / JOURNAL
    path.write_bytes(path.read_bytes().replace(b'"resource":"r/5"', b'"resource":"r/9"'))
    assert main(["audit", "verify", "--dir", str(journal_dir), "--jobs", "3"]) == 1
    out = capsys.readouterr().out
    assert "TAMPERED at sequence number 6" in out and "3 processes" in out
    with pytest.raises(SystemExit) as exit_info:
        main(["audit", "verify", "--dir", str(journal_dir), "--jobs", "0"])
    assert exit_info.value.code == 2 and "expected a whole number of at least 1, not '0'" in capsys.readouterr().err


def test_verify_with_a_wrong_key_or_no_journal_is_a_usage_error(
    journal_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RICECODER_COMPLIANCE__AUDIT__CHECKPOINT_KEY", "another-key-of-at-least-16")
    assert main(["audit", "verify", "--dir", str(journal_dir)]) == 2
    err = capsys.readouterr().err
    assert "wrong checkpoint key" in err and "another-key" not in err and KEY not in err
    assert main(["audit", "verify", "--dir", str(journal_dir.parent / "missing")]) == 2
    assert "no audit journal" in capsys.readouterr().err


def test_export_jsonl_carries_proofs_that_verify(journal_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "export", "--dir", str(journal_dir), "--since", "2023-11-16T00:00:00"]) == 0
    items = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [i["record"]["seq"] for i in items] == [3, 4, 5, 6, 7, 8]  # day 0 is 2023-11-14T22:13:20Z
    for item in items:
        proof = item["proof"]
        if item["record"]["seq"] > 6:
            assert proof is None  # after the last checkpoint
            continue
        assert verify_inclusion(item["record"]["hash"], proof["leaf_index"], proof["tree_size"], proof["path"],
                                proof["merkle_root"])  # fmt: skip


def test_export_csv_and_refusal_on_a_tampered_journal(journal_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "export", "--dir", str(journal_dir), "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [int(r["seq"]) for r in rows] == list(range(1, 9)) and rows[0]["checkpoint"] == "0"
    assert main(["audit", "export", "--dir", str(journal_dir), "--since", "yesterdayish"]) == 2
    path = journal_dir / JOURNAL
    path.write_bytes(b"".join(path.read_bytes().splitlines(keepends=True)[1:]))
    assert main(["audit", "export", "--dir", str(journal_dir)]) == 1
    assert "nothing exported" in capsys.readouterr().err
