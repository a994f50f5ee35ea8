"""Group commit: concurrent appends share fsyncs, each returns only once its record is synced,
and the fast canonical encoding spells records exactly as ``json.dumps`` does."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ricecoder_otel.compliance.audit.engine import (
    AuditRecord,
    CheckpointPolicy,
    encode_fields,
    iso_time,
    record_fields,
)
from ricecoder_otel.compliance.audit.journal import CHECKPOINTS, JOURNAL, AuditJournal
from ricecoder_otel.compliance.audit.verify import verify_journal

KEY = b"g" * 32


def test_concurrent_appends_share_fsyncs_and_return_only_when_synced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_sync = os.fdatasync
    synced = {"lines": 0, "calls": 0}
    journal_fd: list[int] = []

    def counting_sync(fd: int) -> None:
        real_sync(fd)
        if fd == journal_fd[0]:
            synced["calls"] += 1
            synced["lines"] = (tmp_path / JOURNAL).read_bytes().count(b"\n")

    monkeypatch.setattr(os, "fdatasync", counting_sync)
    journal = AuditJournal(tmp_path, key=KEY, clock=lambda: 1.7e9, policy=CheckpointPolicy(100, 1e9))
    journal_fd.append(journal._fd)
    threads, per_thread = 16, 40
    late: list[int] = []
    seqs: list[int] = []
    lock = threading.Lock()

    def work(worker: int) -> None:
        for n in range(per_thread):
            record = journal.append(
                record_fields(ts=1.7e9, actor=f"u{worker}", action="a", resource=f"r/{n}", outcome="success")
            )
            seen = synced["lines"]
            with lock:
                seqs.append(record.seq)
                if record.seq > seen:
                    late.append(record.seq)

    workers = [threading.Thread(target=work, args=(w,)) for w in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    journal.close()
    total = threads * per_thread
    assert sorted(seqs) == list(range(1, total + 1))
    assert late == [], "an append returned before its record was synced"
    assert synced["calls"] < total, "concurrent callers did not share fsyncs"
    result = verify_journal(tmp_path, KEY, deep=True)
    assert result.ok and result.records == total


def test_a_failed_write_fails_every_caller_of_its_group_and_the_next_append_recovers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_sync = os.fdatasync
    fail = {"on": True}

    def flaky_sync(fd: int) -> None:
        if fail["on"]:
            fail["on"] = False
            raise OSError(5, "Input/output error")
        real_sync(fd)

    monkeypatch.setattr(os, "fdatasync", flaky_sync)
    journal = AuditJournal(tmp_path, key=KEY, clock=lambda: 1.7e9)
    fields = record_fields(ts=1.7e9, actor="u", action="a", resource="r", outcome="success")
    with pytest.raises(Exception, match="Input/output error"):
        journal.append(fields)
    record = journal.append(fields)
    journal.close()
    assert verify_journal(tmp_path, KEY).ok
    assert record.seq == len((tmp_path / JOURNAL).read_bytes().splitlines())


text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), text)
details = st.dictionaries(text, st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                          | st.dictionaries(text, inner, max_size=3), max_leaves=6), max_size=5)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(actor=text, resource=text.filter(bool), trace=text, extra=details)
def test_the_fast_encoding_is_the_canonical_json(actor: str, resource: str, trace: str, extra: dict[str, Any]) -> None:
    fields = record_fields(
        ts=1.7e9, actor=actor, action="x", resource=resource, outcome="ok", trace_id=trace, details=extra
    )
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    assert encode_fields(fields) == canonical[1:].encode()
    # Members other than a record's usual ones, or a value that is not a string, take the general path.
    without_ts = {k: v for k, v in fields.items() if k != "ts"}
    for odd in ({**fields, "extra": actor}, {**fields, "actor": len(actor)}, without_ts):
        canonical = json.dumps(odd, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        assert encode_fields(odd) == canonical[1:].encode()


@settings(max_examples=500, deadline=None)
@given(epoch=st.one_of(st.floats(0, 4e9), st.integers(0, 4_000_000_000).map(lambda s: s + 0.9999995)))
def test_iso_time_spells_an_instant_as_datetime_does(epoch: float) -> None:
    expected = datetime.fromtimestamp(epoch, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    assert iso_time(epoch) == expected


def _rfc6962_root(leaves: list[bytes]) -> bytes:
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    split = 1 << ((len(leaves) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + _rfc6962_root(leaves[:split]) + _rfc6962_root(leaves[split:])).digest()


@settings(max_examples=40, deadline=None)
@given(actors=st.lists(text, min_size=3, max_size=14), extra=details)
def test_every_append_path_stores_the_documented_lines_and_merkle_roots(
    actors: list[str], extra: dict[str, Any]
) -> None:
    """The bytes on disk, spelled independently: ``{"seq":N,"prev":"<hash>",`` + the members as
    ``json.dumps`` sorts them + ``,"hash":"<SHA-256 of everything before>"}``; each checkpoint's
    root is RFC 6962's over the records it covers. Whichever path wrote them (one call, a batch, or
    concurrent coroutines), in the order of their sequence numbers."""
    records = [
        record_fields(ts=1.7e9 + n / 7, actor=actor, action="x", resource=f"r/{n}", outcome="ok", details=extra)
        for n, actor in enumerate(actors)
    ]
    third = len(records) // 3
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        journal = AuditJournal(directory, key=KEY, clock=lambda: 1.7e9, policy=CheckpointPolicy(4, 1e9))
        written = [journal.append(fields) for fields in records[:third]]
        written += journal.append_many(records[third : 2 * third])

        async def concurrently() -> list[AuditRecord]:
            return list(await asyncio.gather(*(journal.append_async(fields) for fields in records[2 * third :])))

        written += asyncio.run(concurrently())
        journal.close()
        stored = (directory / JOURNAL).read_bytes()
        checkpoints = [json.loads(line) for line in (directory / CHECKPOINTS).read_bytes().splitlines()]
    by_seq = {record.seq: fields for record, fields in zip(written, records, strict=True)}
    assert sorted(by_seq) == list(range(1, len(records) + 1))
    expected, prev, digests = b"", "0" * 64, []
    for seq in sorted(by_seq):
        members = json.dumps(by_seq[seq], sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        body = f'{{"seq":{seq},"prev":"{prev}",{members[1:]}'.encode()
        prev = hashlib.sha256(body).hexdigest()
        digests.append(bytes.fromhex(prev))
        expected += body[:-1] + f',"hash":"{prev}"}}\n'.encode()
    assert stored == expected
    assert [record.hash for record in sorted(written)] == [digest.hex() for digest in digests]
    first = 1
    for checkpoint in checkpoints:
        assert checkpoint["first_seq"] == first
        covered = digests[first - 1 : checkpoint["last_seq"]]
        assert checkpoint["merkle_root"] == _rfc6962_root(covered).hex()
        assert checkpoint["last_hash"] == covered[-1].hex()
        first = checkpoint["last_seq"] + 1
    assert first == len(records) + 1
