"""``await append_async`` / ``await audit_async``: each awaiting coroutine returns only once its
record is fsynced, concurrent coroutines share group commits, a group wakes its event loop once,
and a failed write fails every caller of its group. Real files, real fdatasync."""

from __future__ import annotations

import asyncio
import json
import os
import threading
from pathlib import Path

import pytest

from ricecoder_otel.compliance.audit import api
from ricecoder_otel.compliance.audit.api import AuditTrail, audit_async
from ricecoder_otel.compliance.audit.engine import AuditError, AuditRecord, CheckpointPolicy, record_fields
from ricecoder_otel.compliance.audit.journal import JOURNAL, AuditJournal
from ricecoder_otel.compliance.audit.verify import verify_journal

KEY = b"a" * 32


def fields(worker: int, n: int) -> dict[str, object]:
    return record_fields(ts=1.7e9, actor=f"u{worker}", action="a", resource=f"r/{worker}/{n}", outcome="success")


def test_awaiting_appends_share_fsyncs_wake_the_loop_once_per_group_and_return_only_when_synced(
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
    coroutines, each = 200, 5
    late: list[int] = []
    seqs: list[int] = []
    wakeups = {"n": 0}

    async def work(worker: int) -> None:
        for n in range(each):
            record = await journal.append_async(fields(worker, n))
            if record.seq > synced["lines"]:
                late.append(record.seq)
            seqs.append(record.seq)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        wake = loop.call_soon_threadsafe

        def counting_wake(*args: object, **kwargs: object) -> asyncio.Handle:
            wakeups["n"] += 1
            return wake(*args, **kwargs)  # type: ignore[arg-type]

        loop.call_soon_threadsafe = counting_wake  # type: ignore[method-assign]
        await asyncio.gather(*(work(w) for w in range(coroutines)))

    asyncio.run(main())
    journal.close()
    total = coroutines * each
    assert sorted(seqs) == list(range(1, total + 1))
    assert late == [], "an awaited append returned before its record was synced"
    assert synced["calls"] < total / 4, "awaiting callers did not share fsyncs"
    assert wakeups["n"] <= synced["calls"], "more event-loop wake-ups than group commits"
    result = verify_journal(tmp_path, KEY, deep=True)
    assert result.ok and result.records == total


def test_a_failed_write_fails_every_awaiting_caller_of_its_group_and_the_next_append_recovers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_sync = os.fdatasync
    journal_fd: list[int] = []
    first_sync, all_waiting = threading.Event(), threading.Event()
    syncs = {"n": 0, "lines": 0}
    failed_group: list[str] = []

    def flaky_sync(fd: int) -> None:
        if fd != journal_fd[0]:
            return real_sync(fd)
        syncs["n"] += 1
        if syncs["n"] == 1:  # the first record's group waits until 50 more callers wait behind it
            first_sync.set()
            assert all_waiting.wait(60)
        elif syncs["n"] == 2:  # their group is written, and its sync fails
            lines = (tmp_path / JOURNAL).read_bytes().splitlines()
            failed_group.extend(json.loads(line)["resource"] for line in lines[syncs["lines"] :])
            raise OSError(5, "Input/output error")
        real_sync(fd)
        syncs["lines"] = (tmp_path / JOURNAL).read_bytes().count(b"\n")

    monkeypatch.setattr(os, "fdatasync", flaky_sync)
    journal = AuditJournal(tmp_path, key=KEY, clock=lambda: 1.7e9, policy=CheckpointPolicy(1000, 1e9))
    journal_fd.append(journal._fd)
    returned: dict[str, AuditRecord] = {}
    failed: dict[str, str] = {}

    async def one(worker: int, n: int = 0) -> None:
        try:
            returned[f"r/{worker}/{n}"] = await journal.append_async(fields(worker, n))
        except AuditError as error:
            failed[f"r/{worker}/{n}"] = str(error)

    async def main() -> None:
        first = asyncio.create_task(one(0))
        await asyncio.to_thread(first_sync.wait, 60)
        tasks = [asyncio.create_task(one(w)) for w in range(1, 51)]
        await asyncio.sleep(0)  # every task has handed over its record and waits
        all_waiting.set()
        await asyncio.gather(first, *tasks)
        await one(99, 1)

    asyncio.run(main())
    journal.close()
    assert sorted(failed) == sorted(failed_group) == sorted(f"r/{w}/0" for w in range(1, 51))
    assert all("Input/output error" in problem for problem in failed.values())
    assert sorted(returned) == ["r/0/0", "r/99/1"]
    lines = {json.loads(line)["seq"]: json.loads(line) for line in (tmp_path / JOURNAL).read_bytes().splitlines()}
    for resource, record in returned.items():
        assert lines[record.seq]["hash"] == record.hash and lines[record.seq]["resource"] == resource
    result = verify_journal(tmp_path, KEY)
    assert result.ok, result.problem


def test_close_commits_what_waits_and_refuses_more_and_a_cancelled_caller_does_not_stall_others(
    tmp_path: Path,
) -> None:
    journal = AuditJournal(tmp_path, key=KEY, clock=lambda: 1.7e9)

    async def main() -> list[AuditRecord]:
        tasks = [asyncio.create_task(journal.append_async(fields(w, 0))) for w in range(20)]
        await asyncio.sleep(0)  # the tasks add their records to the loop's batch ...
        await asyncio.sleep(0)  # ... which the loop hands over to the committer thread
        tasks[3].cancel()
        await asyncio.to_thread(journal.close)  # waits for what was handed over, then closes
        with pytest.raises(AuditError, match="closed"):
            await journal.append_async(fields(0, 1))
        done = await asyncio.gather(*tasks, return_exceptions=True)
        assert isinstance(done[3], asyncio.CancelledError)
        return [record for record in done if isinstance(record, AuditRecord)]

    records = asyncio.run(main())
    assert len(records) == 19
    result = verify_journal(tmp_path, KEY)
    assert result.ok and result.unsigned == 0
    assert {record.seq for record in records} <= set(range(1, result.records + 1))


def test_audit_async_records_through_the_active_trail_and_exports_after_the_sync(tmp_path: Path) -> None:
    journal = AuditJournal(tmp_path, key=KEY, clock=lambda: 1.7e9)
    exported: list[AuditRecord] = []
    trail = AuditTrail(lambda: journal, clock=lambda: 1.7e9, emit=exported.append)

    async def main() -> list[AuditRecord | None]:
        assert await audit_async("order.refund", "order/1", actor="alice") is None  # the trail is off
        api.set_active(trail)
        try:
            return list(await asyncio.gather(*(audit_async("order.refund", f"order/{n}", actor="alice", amount=n)
                                               for n in range(10))))  # fmt: skip
        finally:
            api.deactivate(trail)

    records = asyncio.run(main())
    trail.close()
    assert all(record is not None for record in records)
    assert sorted(record.seq for record in records if record is not None) == list(range(1, 11))
    assert exported == records
    assert {record.details["amount"] for record in exported} == set(range(10))
    assert verify_journal(tmp_path, KEY).records == 10
