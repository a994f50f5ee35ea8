"""Bad input: a wrong checkpoint key, a missing or corrupt journal, a checkpoint forged without the key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ricecoder_otel.compliance.audit import AuditError, AuditJournal, WrongKeyError, verify_journal
from ricecoder_otel.compliance.audit.engine import CheckpointPolicy, Signer, make_checkpoint, record_fields
from ricecoder_otel.compliance.audit.journal import CHECKPOINTS, JOURNAL, KEY_FILE, load_key

KEY = b"k" * 32


def fill(directory: Path, n: int = 5, key: bytes | None = KEY) -> None:
    journal = AuditJournal(directory, key=key, clock=lambda: 1.0, policy=CheckpointPolicy(2, 60), fsync=False)
    for i in range(n):
        journal.append(record_fields(ts=float(i), actor="a", action="x", resource=f"r/{i}", outcome="success"))
    journal.close()


def test_a_wrong_checkpoint_key_is_named_as_such(tmp_path: Path) -> None:
    fill(tmp_path)
    with pytest.raises(WrongKeyError, match="wrong checkpoint key") as caught:
        verify_journal(tmp_path, b"w" * 32)
    assert KEY.decode() not in str(caught.value) and "w" * 32 not in str(caught.value)


def test_a_missing_journal_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AuditError, match=f"no audit journal at {tmp_path / 'nowhere' / JOURNAL}"):
        verify_journal(tmp_path / "nowhere", KEY)
    with pytest.raises(AuditError, match="no checkpoint key"):
        load_key(tmp_path, None, create=False)


def test_a_corrupt_journal_refuses_appends_with_its_location(tmp_path: Path) -> None:
    journal = AuditJournal(tmp_path, key=KEY, clock=lambda: 1.0, fsync=False)  # no checkpoint yet
    for i in range(5):
        journal.append(record_fields(ts=float(i), actor="a", action="x", resource=f"r/{i}", outcome="success"))
    lines = (tmp_path / JOURNAL).read_bytes().splitlines(keepends=True)
    lines[4] = b"garbage that is not a record\n"
    (tmp_path / JOURNAL).write_bytes(b"".join(lines))
    with pytest.raises(AuditError, match=r"the line at byte \d+ is not record 5 of the chain"):
        AuditJournal(tmp_path, key=KEY, clock=lambda: 1.0, policy=CheckpointPolicy(2, 60))
    result = verify_journal(tmp_path, KEY)
    assert not result.ok and result.first_bad_seq == 5
    # Nothing was lost or rewritten by the refused open.
    assert (tmp_path / JOURNAL).read_bytes() == b"".join(lines)


def test_a_journal_shorter_than_its_last_checkpoint_refuses_appends(tmp_path: Path) -> None:
    fill(tmp_path, n=4)
    data = (tmp_path / JOURNAL).read_bytes()
    (tmp_path / JOURNAL).write_bytes(data[: len(data) // 2])
    with pytest.raises(AuditError, match="truncated or replaced"):
        AuditJournal(tmp_path, key=KEY, clock=lambda: 1.0)


def test_a_corrupt_checkpoint_file_names_its_line(tmp_path: Path) -> None:
    fill(tmp_path, n=4)
    with (tmp_path / CHECKPOINTS).open("ab") as handle:
        handle.write(b"{not json\n")
    with pytest.raises(AuditError, match=r"checkpoints.jsonl:3: not a checkpoint"):
        verify_journal(tmp_path, KEY)


def test_records_rewritten_with_recomputed_hashes_fail_on_the_signed_checkpoint(tmp_path: Path) -> None:
    fill(tmp_path, n=4)
    # Someone without the key rewrites the whole chain consistently and re-signs with their own key.
    forged = Signer(b"f" * 32)
    checkpoints = [json.loads(line) for line in (tmp_path / CHECKPOINTS).read_text().splitlines()]
    cp = make_checkpoint(forged, previous=None, digests=[bytes(32), b"\x11" * 32], last_seq=2, end_offset=1, now=1.0)
    checkpoints[0] = {**checkpoints[0], "mac": cp.mac}
    (tmp_path / CHECKPOINTS).write_text("".join(json.dumps(c) + "\n" for c in checkpoints))
    result = verify_journal(tmp_path, KEY)
    assert not result.ok and result.first_bad_seq == 1 and "invalid signature" in (result.problem or "")


def test_without_a_configured_key_one_is_kept_beside_the_journal(tmp_path: Path) -> None:
    fill(tmp_path, key=None)
    key_file = tmp_path / KEY_FILE
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert verify_journal(tmp_path, load_key(tmp_path, None, create=False)).ok
    key_file.write_text("not hex")
    with pytest.raises(AuditError, match="not a hex key"):
        load_key(tmp_path, None, create=False)
