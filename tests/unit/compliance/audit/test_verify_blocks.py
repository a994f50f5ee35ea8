"""The whole-block check passes only what the line-by-line check passes, and leaves the scan where
it does: byte-level damage anywhere (including spellings that imitate a record's own members
inside its details) never slips through the fast path. Worker processes checking byte ranges of
a damaged journal report exactly what one process reports."""

from __future__ import annotations

import copy
import shutil
import tempfile
from concurrent.futures import Executor
from pathlib import Path
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from ricecoder_otel.compliance.audit import verify as verify_module
from ricecoder_otel.compliance.audit.engine import CheckpointPolicy, record_fields
from ricecoder_otel.compliance.audit.journal import CHECKPOINTS, JOURNAL, AuditJournal, read_checkpoints
from ricecoder_otel.compliance.audit.verify import VerifyResult, _fast_block, _Scan, _slow_block, verify_journal

KEY = b"v" * 32
LOOKALIKES = (',"hash":"', '}"hash":"', '"}', '{"seq":', ',"prev":"', "\\n", "ünï", "0" * 64)
"""Text that imitates a record's framing, put inside details (JSON-escaped there, as stored)."""


def build(directory: Path, n: int) -> bytes:
    journal = AuditJournal(directory, key=KEY, clock=lambda: 1.7e9, policy=CheckpointPolicy(4, 1e9), fsync=False)
    for i in range(n):
        odd = LOOKALIKES[i % len(LOOKALIKES)]
        details = {"amount": i, "note": odd, odd: i, "hash": odd} if i % 3 else {"amount": i}
        journal.append(record_fields(ts=1.7e9 + i, actor=f"u{i}", action="a", resource=f"r/{i}", outcome="ok",
                                     details=details))  # fmt: skip
    journal.close()
    return (directory / JOURNAL).read_bytes()


def scan_for(directory: Path, data: bytes, deep: bool) -> _Scan:
    last = data.splitlines(keepends=True)[-1]
    head_hash = last[-67:-3]
    return _Scan(read_checkpoints(directory / CHECKPOINTS), data.count(b"\n"), head_hash, deep)


pieces = st.sampled_from([text.encode() for text in LOOKALIKES] + [b"\n", b"}", b",", b'"', b"1", b"a"])
edits = st.lists(
    st.tuples(st.sampled_from(["flip", "insert", "delete"]), st.floats(0, 1), st.integers(0, 255), pieces),
    min_size=1,
    max_size=3,
)


def damaged(data: bytes, changes: list[tuple[str, float, int, bytes]]) -> bytes:
    out = bytearray(data)
    for kind, where, value, piece in changes:
        at = min(int(where * len(out)), len(out) - 1)
        if kind == "flip":
            out[at] = value if out[at] != value else (value + 1) % 256
        elif kind == "insert":
            out[at:at] = piece
        else:
            del out[at : at + 1 + value % 70]
    return bytes(out)


def test_an_intact_journal_with_lookalike_details_passes_both_checks(tmp_path: Path) -> None:
    data = build(tmp_path, 24)
    for deep in (False, True):
        fast, slow = scan_for(tmp_path, data, deep), scan_for(tmp_path, data, deep)
        assert _fast_block(data, fast) is True
        assert _slow_block(data, slow, VerifyResult(journal="j")) is True
        assert vars(fast) == vars(slow)
    assert verify_journal(tmp_path, KEY, deep=True).ok


BUILT: list[tuple[Path, bytes]] = []
"""The journal the property test damages (built once; each example damages a copy in memory)."""


@settings(max_examples=400, deadline=None)
@given(changes=edits, deep=st.booleans())
def test_the_fast_path_never_passes_a_block_the_line_by_line_check_fails(
    tmp_path_factory: object, changes: list[tuple[str, float, int, bytes]], deep: bool
) -> None:
    if not BUILT:
        directory = Path(tmp_path_factory.mktemp("j"))  # type: ignore[attr-defined]
        BUILT.append((directory, build(directory, 12)))
    [(directory, data)] = BUILT
    block = damaged(data, changes)
    fast, slow = scan_for(directory, data, deep), scan_for(directory, data, deep)
    before = copy.deepcopy(vars(fast))
    if _fast_block(block, fast):
        assert _slow_block(block, slow, VerifyResult(journal="j")), "the fast path passed a damaged block"
        assert vars(fast) == vars(slow)
    else:
        assert vars(fast) == before, "a failed fast check must leave the scan unchanged"


@settings(max_examples=300, deadline=None)
@given(
    changes=edits,
    ranges_per_job=st.sampled_from([1, 2, 4, 8]),
    read_size=st.sampled_from([200, 1000, 1 << 18]),
)
def test_worker_processes_report_a_damaged_journal_exactly_as_one_process_does(
    tmp_path_factory: object,
    verify_pool: Executor,
    changes: list[tuple[str, float, int, bytes]],
    ranges_per_job: int,
    read_size: int,
) -> None:
    """Three workers and 3-24 byte ranges over 12 records: damage lands inside a range, on a cut
    between two, or on a first line whose claimed number or ``prev`` is then wrong."""
    if not BUILT:
        directory = Path(tmp_path_factory.mktemp("j"))  # type: ignore[attr-defined]
        BUILT.append((directory, build(directory, 12)))
    [(built, data)] = BUILT
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(shutil.copytree(built, Path(tmp) / "j"))
        (directory / JOURNAL).write_bytes(damaged(data, changes))
        with (
            mock.patch.object(verify_module, "_READ_SIZE", read_size),
            mock.patch.object(verify_module, "_RANGES_PER_JOB", ranges_per_job),
        ):
            alone = verify_journal(directory, KEY).to_json()
            parallel = verify_journal(directory, KEY, jobs=3, executor=verify_pool).to_json()
    assert parallel.pop("jobs") == 3 and alone.pop("jobs") == 1
    del parallel["seconds"], alone["seconds"]
    assert parallel == alone
