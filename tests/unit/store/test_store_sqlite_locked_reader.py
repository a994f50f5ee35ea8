"""A read-only store whose file another connection holds an exclusive lock on says so, and never
falls back to reading the file as if it were immutable (old or no rows, silently, for good)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ricecoder_otel.store import StoreBusyError
from ricecoder_otel.store.sqlite import SQLiteStore
from tests.harness.store_rows import NO_RETENTION, log

# Two ways another connection keeps readers out: an exclusive locking mode on the WAL file, or
# a file switched back to a rollback journal, where an exclusive transaction blocks every reader.
LOCKS = ("PRAGMA locking_mode = EXCLUSIVE", "PRAGMA journal_mode = DELETE")


@pytest.mark.parametrize("pragma", LOCKS)
def test_an_exclusively_locked_store_is_reported_and_read_again_once_released(tmp_path: Path, pragma: str) -> None:
    path = tmp_path / "telemetry.db"
    writer = SQLiteStore(path, retention=NO_RETENTION)
    writer.write_logs([log(1)])
    writer.close()
    reader = SQLiteStore(path, read_only=True, create=False, busy_timeout_ms=100)
    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute(pragma)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreBusyError) as raised:
            reader.query_logs()
        assert str(raised.value).startswith(f"store {path} is locked by another connection (an exclusive lock")
        assert "cannot be read until that lock is released" in str(raised.value)
        with pytest.raises(StoreBusyError):  # still locked: still said, not a stale read
            reader.counts()
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    writer = SQLiteStore(path, retention=NO_RETENTION)
    writer.write_logs([log(2)])  # in the WAL: a connection that ignored the lock would not see it
    try:
        assert [row.body for row in reader.query_logs()] == [log(2).body, log(1).body]
    finally:
        writer.close()
        reader.close()
