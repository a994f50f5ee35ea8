"""The embedded SQLite store: WAL, busy timeout, migrations, retention, fork-safe.

One connection per process serves all threads under a lock (SQLite serialises writers
anyway); processes share the file through WAL and wait for each other up to the busy
timeout. Auto-vacuum is incremental so retention can hand freed pages back to the disk.
New files are private (0600, directories we create 0700): telemetry holds user data.
``read_only`` stores (the CLI's) open with ``mode=ro`` and never write, migrate or checkpoint.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ricecoder_otel.store._connection import ConnectionSlot
from ricecoder_otel.store.base import Clock
from ricecoder_otel.store.errors import (
    StoreBusyError,
    StoreCorruptError,
    StoreError,
    StoreFullError,
    StoreReadOnlyError,
    StoreUnavailableError,
)
from ricecoder_otel.store.migrations import BOOTSTRAP_SQL, applied_version, check_not_newer, migrations_for
from ricecoder_otel.store.records import RetentionPolicy
from ricecoder_otel.store.sql import Cursor, SqlStore

DEFAULT_BUSY_TIMEOUT_MS = 5000
_HAS_SCHEMA = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"


class SQLiteStore(SqlStore):
    backend = "sqlite"

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        create: bool = True,
        read_only: bool = False,
        retention: RetentionPolicy | None = None,
        clock: Clock | None = None,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
    ) -> None:
        self.path = Path(path).expanduser()
        super().__init__(str(self.path), retention=retention, clock=clock)
        self.create = create and not read_only
        self.read_only = read_only
        self.busy_timeout_ms = busy_timeout_ms
        self._slot: ConnectionSlot[sqlite3.Connection] = ConnectionSlot(self._open)
        self._read_only_conn: sqlite3.Connection | None = None

    @property
    def display_location(self) -> str:
        return str(self.path)

    # connection ------------------------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        if not self.create and not self.path.exists():
            raise StoreUnavailableError(
                f"no store at {self.path}: nothing has been recorded there yet "
                "(run the application with the local exporters, or pass another --store)"
            )
        if self.read_only:
            self._read_only_conn = self._connect_read_only()
            return self._read_only_conn
        try:
            return self._connect_writable()
        except StoreReadOnlyError:
            if not self.path.is_file():
                raise
            # Stored rows stay readable; every write fails with the read-only error.
            self._read_only_conn = self._connect_read_only()
            return self._read_only_conn

    def _connect_writable(self) -> sqlite3.Connection:
        if self.create:
            self._create_private_file()
        # Without create, mode=rw refuses to make a new empty file at a mistyped path.
        conn = self._connect("rwc" if self.create else "rw")
        try:
            conn.execute("PRAGMA auto_vacuum = INCREMENTAL")  # only takes effect on a new file
            conn.execute("PRAGMA journal_mode = WAL").fetchone()
            conn.execute("PRAGMA synchronous = NORMAL")
            self._migrate(conn)
        except BaseException as exc:
            conn.close()
            if isinstance(exc, sqlite3.Error):
                raise self._translate(exc) from exc
            raise
        return conn

    def _create_private_file(self) -> None:
        """Make missing directories 0700 and a new store file 0600 before SQLite opens it.

        SQLite would create the file 0644 (world-readable); its -wal and -shm files copy the
        database file's mode, so they are private too. An existing file keeps its mode.
        """
        missing = [p for p in (self.path.parent, *self.path.parent.parents) if not p.exists()]
        try:
            for directory in reversed(missing):
                with contextlib.suppress(FileExistsError):  # another process made it first
                    directory.mkdir(mode=0o700)
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise StoreFullError(f"cannot create the store directory {directory}: {exc.strerror}") from exc
            raise StoreReadOnlyError(
                f"cannot create the store directory {directory}: {exc.strerror}; "
                "make it writable or set RICECODER_STORE_PATH to a writable location"
            ) from exc
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            os.close(os.open(self.path, flags, 0o600))
        except FileExistsError:
            pass
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise StoreFullError(f"cannot create the store {self.path}: {exc.strerror}; free disk space") from exc
            raise StoreReadOnlyError(
                f"cannot create the store {self.path}: {exc.strerror}; make {self.path.parent} writable "
                "or set RICECODER_STORE_PATH to a writable location"
            ) from exc

    def _connect_read_only(self) -> sqlite3.Connection:
        """Read without writing; ``immutable`` when WAL's shared memory cannot be made (full or
        read-only disk). Neither migrates: a file without our tables is reported as empty."""
        last: StoreError | None = None
        for query in ("ro", "ro&immutable=1"):
            try:
                conn = self._connect(query)
            except StoreError as exc:
                last = exc
                continue
            try:
                conn.execute("PRAGMA query_only = ON")
                if conn.execute(_HAS_SCHEMA).fetchone() is None:
                    raise StoreUnavailableError(
                        f"no store at {self.path}: the file holds no ricecoder-otel tables "
                        "(run the application with the local exporters, or pass another --store)"
                    )
                check_not_newer(self.backend, applied_version(conn), self.display_location)
            except sqlite3.Error as exc:
                conn.close()
                last = self._translate(exc)
                if isinstance(last, StoreBusyError):
                    # ``immutable`` would ignore the lock and read a file being rewritten (old or no
                    # rows, silently, and for as long as that connection lived): say so instead.
                    raise StoreBusyError(
                        f"store {self.path} is locked by another connection (an exclusive lock, held for over "
                        f"{self.busy_timeout_ms} ms): its telemetry cannot be read until that lock is released "
                        f"({exc})"
                    ) from exc
                continue
            except BaseException:
                conn.close()
                raise
            return conn
        assert last is not None
        raise last

    def _connect(self, mode: str) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                f"{self.path.resolve().as_uri()}?mode={mode}", uri=True, isolation_level=None,
                check_same_thread=False, timeout=self.busy_timeout_ms / 1000,
            )  # fmt: skip
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
        except sqlite3.Error as exc:
            raise self._translate(exc) from exc
        return conn

    def _migrate(self, conn: sqlite3.Connection) -> None:
        conn.execute(BOOTSTRAP_SQL)
        applied = applied_version(conn)
        check_not_newer(self.backend, applied, self.display_location)
        for migration in migrations_for(self.backend)[applied:]:
            conn.execute("BEGIN IMMEDIATE")  # the write lock: concurrent openers queue here
            try:
                if applied_version(conn) < migration.version:
                    for statement in _statements(migration.sql):
                        conn.execute(statement)
                    conn.execute(
                        "INSERT INTO schema_migrations (version, name, applied_at_ns) VALUES (?, ?, ?)",
                        (migration.version, migration.name, self.clock()),
                    )
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    @contextmanager
    def _transaction(self, write: bool = False) -> Iterator[Cursor]:
        if write and self.read_only:
            raise StoreReadOnlyError(f"store {self.display_location} was opened read-only: writes are refused")
        try:
            with self._slot.use() as conn:
                if write and conn is self._read_only_conn:
                    # The media may be writable again: try a writable connection first.
                    self._slot.discard()
            with self._slot.use() as conn:
                # IMMEDIATE takes the write lock up front, so a writer waits on the busy
                # timeout instead of failing when it upgrades from a stale WAL snapshot.
                conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                try:
                    yield conn.cursor()
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
        except sqlite3.Error as exc:
            error = self._translate(exc)
            if not isinstance(error, StoreFullError | StoreBusyError):
                self._slot.discard()
            raise error from exc

    def _translate(self, exc: sqlite3.Error) -> StoreError:
        """Name the problem and the way out; the stored rows are never touched on failure."""
        code = getattr(exc, "sqlite_errorname", "") or ""
        detail = str(exc)
        where = self.display_location
        if code.startswith("SQLITE_FULL") or "disk is full" in detail:
            return StoreFullError(
                f"store {where} is full ({detail}): new telemetry is dropped and stored rows are kept; "
                "free disk space or lower the retention size"
            )
        if code.startswith("SQLITE_READONLY") or (
            code.startswith("SQLITE_CANTOPEN") and not os.access(self.path.parent, os.W_OK)
        ):
            return StoreReadOnlyError(
                f"store {where} cannot be written ({detail}): make {self.path.parent} writable "
                "or set RICECODER_STORE_PATH to a writable location"
            )
        if code.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")):
            return StoreCorruptError(
                f"{where} is not a readable SQLite store ({detail}): it was left untouched; "
                "move it aside and a new store will be created"
            )
        if code.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
            return StoreBusyError(
                f"store {where} stayed locked by another writer for over {self.busy_timeout_ms} ms ({detail})"
            )
        if code.startswith("SQLITE_CANTOPEN"):
            return StoreUnavailableError(f"cannot open store {where} ({detail})")
        return StoreError(f"store {where}: {detail}")

    # size ------------------------------------------------------------------------------
    def _used_bytes(self, cur: Cursor) -> int:
        page_size = self._pragma(cur, "page_size")
        return (self._pragma(cur, "page_count") - self._pragma(cur, "freelist_count")) * page_size

    @staticmethod
    def _pragma(cur: Cursor, name: str) -> int:
        cur.execute(f"PRAGMA {name}")
        return int(cur.fetchone()[0])

    def _reclaim_space(self) -> None:
        try:
            with self._slot.use() as conn:
                # executescript steps the pragma to completion; execute() frees one page per call.
                conn.executescript("PRAGMA incremental_vacuum;")
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        except sqlite3.Error as exc:
            raise self._translate(exc) from exc

    def file_bytes(self) -> int:
        """Bytes the store's files take on disk (database plus write-ahead log)."""
        return sum(p.stat().st_size for p in (self.path, Path(f"{self.path}-wal")) if p.exists())

    def _table_exists(self, cur: Cursor, table: str) -> bool:
        cur.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,))
        return cur.fetchone() is not None

    def schema_version(self) -> int:
        try:
            with self._slot.use() as conn:
                return applied_version(conn)
        except sqlite3.Error as exc:
            raise self._translate(exc) from exc

    def close(self) -> None:
        self._slot.close()


def _statements(script: str) -> Iterator[str]:
    """Split a migration into statements (``executescript`` would commit mid-migration)."""
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            yield buffer.strip()
            buffer = ""
    leftover = [line for line in buffer.splitlines() if line.strip() and not line.strip().startswith("--")]
    if leftover:
        raise ValueError(f"incomplete SQL statement at the end of a migration: {leftover[0][:80]!r}")
