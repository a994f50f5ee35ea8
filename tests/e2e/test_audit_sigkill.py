"""Crash safety: a process appending as fast as it can (from threads, or from coroutines awaiting
``append_async``) is killed with SIGKILL; afterwards the chain verifies and every record whose
append had returned is in the journal."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ricecoder_otel.compliance.audit.engine import record_fields
from ricecoder_otel.compliance.audit.journal import JOURNAL, AuditJournal
from ricecoder_otel.compliance.audit.verify import verify_journal

KEY = b"s" * 32
CHILDREN = {"threads": ("audit_appender.py", "8"), "coroutines": ("audit_async_appender.py", "64")}
ROOT = Path(__file__).resolve().parents[2]


def acknowledged(report: Path) -> dict[int, str]:
    found: dict[int, str] = {}
    for line in report.read_text().splitlines():  # one write() per line: whole or absent
        seq, digest = line.split(" ")
        found[int(seq)] = digest
    return found


def wait_for(predicate, what: str, timeout_s: float = 120.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


@pytest.mark.parametrize("callers", sorted(CHILDREN))
def test_sigkill_mid_append_loses_no_acknowledged_record(tmp_path: Path, callers: str) -> None:
    directory, report = tmp_path / "audit", tmp_path / "acknowledged.txt"
    report.touch()
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    script, count = CHILDREN[callers]
    child_script = Path(__file__).with_name(script)
    child = subprocess.Popen([sys.executable, str(child_script), str(directory), str(report), count], env=env)
    try:
        wait_for(lambda: len(report.read_bytes().splitlines()) >= 400, "400 acknowledged appends")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL

    whole = [json.loads(line) for line in (directory / JOURNAL).read_bytes().splitlines(keepends=True)
             if line.endswith(b"\n")]  # fmt: skip
    records = {record["seq"]: record["hash"] for record in whole}
    acked = acknowledged(report)
    assert len(acked) >= 400
    missing = {seq for seq, digest in acked.items() if records.get(seq) != digest}
    assert missing == set()

    result = verify_journal(directory, KEY)
    assert result.ok, result.problem
    assert result.records >= max(acked)
    assert result.checkpoints > 0

    # The writer recovers after the crash: a torn final write is cut off and the chain continues.
    journal = AuditJournal(directory, key=KEY, clock=time.time)
    record = journal.append(record_fields(ts=time.time(), actor="a", action="after", resource="r", outcome="success"))
    journal.close()
    assert record.seq == result.records + 1
    after = verify_journal(directory, KEY)
    assert after.ok and after.records == record.seq and after.unsigned == 0 and after.torn_bytes == 0
