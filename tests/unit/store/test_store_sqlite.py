"""SQLite specifics: WAL and locking, giving space back, and every kind of bad storage."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from ricecoder_otel.store import (
    StoreBusyError,
    StoreCorruptError,
    StoreFullError,
    StoreReadOnlyError,
    StoreUnavailableError,
)
from ricecoder_otel.store.records import RetentionPolicy
from ricecoder_otel.store.sqlite import SQLiteStore
from tests.harness.store_rows import NO_RETENTION, span


def test_a_new_store_uses_wal_and_incremental_vacuum(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "telemetry.db"
    SQLiteStore(path, retention=NO_RETENTION).write_spans([span(0)])
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert conn.execute("PRAGMA auto_vacuum").fetchone() == (2,)  # 2 = incremental
    conn.close()


def test_a_writer_waits_for_a_lock_held_by_another_process(tmp_path: Path) -> None:
    path = tmp_path / "telemetry.db"
    store = SQLiteStore(path, retention=NO_RETENTION)
    store.write_spans([span(0)])
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.3, lambda: other.execute("COMMIT"))
    release.start()
    store.write_spans([span(1)])  # blocks on the busy timeout until the other writer commits
    release.join()
    other.close()
    assert store.counts().spans == 2


def test_a_lock_held_past_the_busy_timeout_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "telemetry.db"
    store = SQLiteStore(path, retention=NO_RETENTION, busy_timeout_ms=50)
    store.write_spans([span(0)])
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreBusyError, match=r"stayed locked by another writer for over 50 ms"):
            store.write_spans([span(1)])
    finally:
        other.execute("ROLLBACK")
        other.close()
    store.write_spans([span(2)])
    assert {s.span_id for s in store.query_spans()} == {span(0).span_id, span(2).span_id}


def test_size_retention_gives_the_space_back_to_the_disk(tmp_path: Path) -> None:
    path = tmp_path / "telemetry.db"
    SQLiteStore(path, retention=NO_RETENTION).write_spans([span(i) for i in range(3000)])
    # Above the empty schema of every capability's tables (about 220 KB), well below the data.
    store = SQLiteStore(path, retention=RetentionPolicy(max_age_ns=None, max_bytes=400_000, interval_ns=None))
    before = store.file_bytes()
    result = store.enforce_retention()
    assert result.bytes_after <= 400_000 < result.bytes_before
    assert store.file_bytes() < before / 2


def test_reading_a_store_that_does_not_exist_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "telemetry.db"
    with pytest.raises(StoreUnavailableError, match=rf"no store at {missing}: nothing has been recorded"):
        SQLiteStore(missing, create=False).query_spans()
    assert not missing.parent.exists()


def test_a_read_only_store_keeps_its_rows_readable_and_recovers(
    tmp_path: Path, remountable_fs: Callable[[bool], None]
) -> None:
    path = tmp_path / "media" / "store" / "telemetry.db"
    with SQLiteStore(path, retention=NO_RETENTION) as first:
        first.write_spans([span(0)])
    remountable_fs(True)

    store = SQLiteStore(path, retention=NO_RETENTION)
    with pytest.raises(StoreReadOnlyError, match=rf"store {path} cannot be written .* make {path.parent} writable"):
        store.write_spans([span(1)])
    assert store.query_spans() == [span(0)]

    remountable_fs(False)
    store.write_spans([span(1)])
    assert store.counts().spans == 2


def test_a_store_directory_that_cannot_be_created_is_a_clear_error(
    tmp_path: Path, remountable_fs: Callable[[bool], None]
) -> None:
    remountable_fs(True)
    path = tmp_path / "media" / "new" / "telemetry.db"
    with pytest.raises(StoreReadOnlyError, match=r"cannot create the store directory .*: Read-only file system"):
        SQLiteStore(path).write_spans([span(0)])


def test_a_full_disk_drops_new_rows_and_keeps_stored_ones(tiny_fs: Path) -> None:
    filler = tiny_fs / "filler"
    filler.write_bytes(b"\0" * 64 * 1024)
    store = SQLiteStore(tiny_fs / "telemetry.db", retention=NO_RETENTION)
    written = 0
    with pytest.raises(StoreFullError, match=r"is full .*stored rows are kept"):
        for batch in range(1000):
            store.write_spans([span(batch * 20 + i) for i in range(20)])
            written += 20
    assert written > 0
    assert store.counts().spans == written

    filler.unlink()
    store.write_spans([span(100_000)])
    assert store.counts().spans == written + 1


def test_a_corrupt_file_is_reported_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "telemetry.db"
    garbage = b"this is not a database " * 400
    path.write_bytes(garbage)
    with pytest.raises(StoreCorruptError, match=rf"{path} is not a readable SQLite store .* move it aside"):
        SQLiteStore(path).write_spans([span(0)])
    assert path.read_bytes() == garbage
