"""Any single mutation of a stored chain is detected, with the right first bad sequence number,
by one process and by worker processes checking byte ranges of a few lines each (so the mutation
lands at the start, inside or at the end of a range, or between two)."""

from __future__ import annotations

import json
import os
import tempfile
from concurrent.futures import Executor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ricecoder_otel.compliance.audit import verify as verify_module
from ricecoder_otel.compliance.audit.engine import AuditError, CheckpointPolicy, encode_record, record_fields
from ricecoder_otel.compliance.audit.journal import JOURNAL, AuditJournal
from ricecoder_otel.compliance.audit.verify import verify_journal

KEY = b"k" * 32
MUTATIONS = ("edit", "edit_rehash", "delete", "duplicate", "insert_forged", "swap", "truncate", "torn")
READ_SIZES = (1 << 22, 200, 1000)
"""The verifier's read size: one block, or blocks of one to three lines (records are ~330 bytes), so
intact blocks pass the whole-block check and the tampered one is rescanned line by line."""
JOBS = (1, 3)
"""One process, or three workers with four byte ranges each (a 24-record journal: two lines a range)."""


def build(directory: Path, n: int, every: int) -> list[bytes]:
    journal = AuditJournal(directory, key=KEY, clock=lambda: 1_700_000_000.0, policy=CheckpointPolicy(every, 1e9),
                           fsync=False)  # fmt: skip
    for i in range(n):
        fields = record_fields(
            ts=1_700_000_000.0 + i, actor=f"user-{i}", action="order.refund", resource=f"order/{i}",
            outcome="success", details={"amount": i * 10, "note": "ünïcode"},
        )  # fmt: skip
        journal.append(fields)
    journal.close()
    return (directory / JOURNAL).read_bytes().splitlines(keepends=True)


def rehashed(line: bytes, **changes: object) -> tuple[bytes, str]:
    data = json.loads(line)
    seq, prev = data.pop("seq"), data.pop("prev")
    data.pop("hash")
    data.update(changes)
    return encode_record(int(changes.get("seq", seq)), str(changes.get("prev", prev)),
                         {k: v for k, v in data.items() if k not in ("seq", "prev")})  # fmt: skip


def mutate(lines: list[bytes], kind: str, i: int, j: int) -> tuple[list[bytes], int]:
    """The mutated lines and the first bad sequence number (records are numbered from 1)."""
    n = len(lines)
    out = list(lines)
    if kind == "edit":
        out[i] = out[i].replace(b'"resource":"order/', b'"resource":"ORDER/')
        return out, i + 1
    if kind == "edit_rehash":
        out[i] = rehashed(out[i], resource="order/forged")[0]
        return out, i + 1
    if kind == "delete":
        del out[i]
        return out, i + 1
    if kind == "duplicate":
        out.insert(i + 1, out[i])
        return out, i + 1
    if kind == "insert_forged":  # a well-formed record claiming the next number, linked correctly
        i = min(i, n - 2)
        prev = json.loads(out[i])["hash"]
        out.insert(i + 1, rehashed(out[i + 1], prev=prev, resource="order/forged")[0])
        return out, i + 2
    if kind == "swap":
        out[i], out[j] = out[j], out[i]
        return out, min(i, j) + 1
    if kind == "truncate":
        return out[:i], i + 1
    assert kind == "torn"
    out[-1] = out[-1][: len(out[-1]) // 2]
    return out, n


@pytest.mark.parametrize("jobs", JOBS)
@settings(max_examples=300, deadline=None)
@given(
    n=st.integers(min_value=2, max_value=24),
    every=st.integers(min_value=1, max_value=30),
    kind=st.sampled_from(MUTATIONS),
    read_size=st.sampled_from(READ_SIZES),
    data=st.data(),
)
def test_any_single_mutation_is_detected_at_the_right_sequence_number(
    verify_pool: Executor, jobs: int, n: int, every: int, kind: str, read_size: int, data: st.DataObject
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        lines = build(directory, n, every)
        assert verify_journal(directory, KEY, jobs=jobs, executor=verify_pool).ok
        i = data.draw(st.integers(min_value=0, max_value=n - 1), label="i")
        j = data.draw(st.integers(min_value=0, max_value=n - 1).filter(lambda x: x != i), label="j")
        mutated, first_bad = mutate(lines, kind, i, j)
        (directory / JOURNAL).write_bytes(b"".join(mutated))
        for deep in (False, True):
            with mock.patch.object(verify_module, "_READ_SIZE", read_size):
                result = verify_journal(directory, KEY, deep=deep, jobs=jobs, executor=verify_pool)
            assert not result.ok, (kind, i, j)
            assert result.first_bad_seq == first_bad, (kind, i, j, result.problem)
            assert result.jobs == (1 if deep else jobs)
            if jobs > 1:
                alone = verify_journal(directory, KEY, deep=deep)
                assert (result.problem, result.notes, result.torn_bytes) == (alone.problem, alone.notes,
                                                                             alone.torn_bytes)  # fmt: skip


@pytest.mark.parametrize("jobs", JOBS)
def test_an_intact_chain_of_every_size_verifies(tmp_path: Path, verify_pool: Executor, jobs: int) -> None:
    for n in (1, 2, 3, 7, 8, 9, 33):
        directory = tmp_path / str(n)
        build(directory, n, every=4)
        for deep in (False, True):
            result = verify_journal(directory, KEY, deep=deep, jobs=jobs, executor=verify_pool)
            assert result.ok and result.records == n and result.head_seq == n
            assert result.checkpoints == (n + 3) // 4 and result.unsigned == 0


def test_intact_blocks_pass_the_whole_block_check_without_a_line_by_line_rescan(tmp_path: Path) -> None:
    build(tmp_path, 40, every=7)
    for read_size in READ_SIZES:
        with (
            mock.patch.object(verify_module, "_READ_SIZE", read_size),
            mock.patch.object(verify_module, "_slow_block", side_effect=AssertionError("rescanned")),
        ):
            for deep in (False, True):
                result = verify_journal(tmp_path, KEY, deep=deep)
                assert result.ok and result.records == 40 and result.checkpoints == 6, (read_size, deep)


def test_worker_processes_check_every_range_of_an_intact_journal_and_this_process_none(tmp_path: Path) -> None:
    """No executor given: a pool is started for the call, and every block is checked in a worker
    (the patched checks below exist only in this process)."""
    build(tmp_path, 40, every=7)
    with (
        mock.patch.object(verify_module, "_READ_SIZE", 1000),
        mock.patch.object(verify_module, "_fast_block", side_effect=AssertionError("checked here")),
        mock.patch.object(verify_module, "_slow_block", side_effect=AssertionError("rescanned here")),
    ):
        result = verify_journal(tmp_path, KEY, jobs=2)
    assert result.ok and result.records == 40 and result.checkpoints == 6 and result.jobs == 2


@pytest.mark.parametrize("failure", [OSError("the file changed"), BrokenProcessPool("a worker died")])
def test_a_range_its_worker_could_not_check_is_rescanned_here(tmp_path: Path, failure: Exception) -> None:
    build(tmp_path, 30, every=7)
    path = tmp_path / JOURNAL
    path.write_bytes(path.read_bytes().replace(b'"resource":"order/20"', b'"resource":"ORDER/20"'))
    with ThreadPoolExecutor(2) as pool, mock.patch.object(verify_module, "_check_range", side_effect=failure):
        result = verify_journal(tmp_path, KEY, jobs=2, executor=pool)
    alone = verify_journal(tmp_path, KEY)
    assert result.jobs == 2 and result.first_bad_seq == alone.first_bad_seq == 21
    assert result.problem == alone.problem == "record 21 does not match its hash (edited)"


def test_jobs_none_uses_one_process_below_the_size_threshold_and_every_cpu_above(tmp_path: Path) -> None:
    build(tmp_path, 12, every=5)
    assert verify_journal(tmp_path, KEY, jobs=None).jobs == 1
    with mock.patch.object(verify_module, "_PARALLEL_MIN_BYTES", 1):
        assert verify_journal(tmp_path, KEY, jobs=None).jobs == (os.cpu_count() or 1)
        assert verify_journal(tmp_path, KEY, jobs=None, deep=True).jobs == 1


def test_jobs_below_one_is_refused(tmp_path: Path) -> None:
    build(tmp_path, 2, every=5)
    with pytest.raises(AuditError, match="jobs must be at least 1, not 0"):
        verify_journal(tmp_path, KEY, jobs=0)
