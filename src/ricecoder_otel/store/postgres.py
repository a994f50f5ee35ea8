"""The PostgreSQL store: the same interface as SQLite, shared by many processes and hosts.

Needs the ``postgres`` extra (psycopg 3). One connection per process serves all threads
under a lock and is reopened after fork or after it breaks. Migrations take an advisory
lock so replicas starting together apply each one once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ricecoder_otel.config.secrets import redact_dsn
from ricecoder_otel.store._connection import ConnectionSlot
from ricecoder_otel.store.base import Clock
from ricecoder_otel.store.errors import (
    MissingDriverError,
    StoreError,
    StoreFullError,
    StoreReadOnlyError,
    StoreUnavailableError,
)
from ricecoder_otel.store.migrations import BOOTSTRAP_SQL, applied_version, check_not_newer, migrations_for
from ricecoder_otel.store.records import RetentionPolicy
from ricecoder_otel.store.sql import TELEMETRY_TABLES, Cursor, SqlStore

try:
    import psycopg
    from psycopg import errors as pg_errors
except ImportError:  # pragma: no cover - exercised only without the extra
    psycopg = None  # type: ignore[assignment]

_MIGRATION_LOCK_KEY = 0x72696365  # "rice": one advisory lock for all ricecoder-otel migrations
DEFAULT_CONNECT_TIMEOUT_S = 5


class PostgresStore(SqlStore):
    backend = "postgres"
    paramstyle = "format"

    def __init__(
        self,
        dsn: str,
        *,
        read_only: bool = False,
        retention: RetentionPolicy | None = None,
        clock: Clock | None = None,
        connect_timeout_s: int = DEFAULT_CONNECT_TIMEOUT_S,
    ) -> None:
        if psycopg is None:
            raise MissingDriverError("the PostgreSQL store needs psycopg 3: pip install 'ricecoder-otel[postgres]'")
        super().__init__(dsn, retention=retention, clock=clock)
        self.connect_timeout_s = connect_timeout_s
        self.read_only = read_only
        self._slot: ConnectionSlot[Any] = ConnectionSlot(self._open)

    @property
    def display_location(self) -> str:
        return redact_dsn(self.location)

    def _open(self) -> Any:
        try:
            conn = psycopg.connect(self.location, autocommit=True, connect_timeout=self.connect_timeout_s)
        except psycopg.Error as exc:
            raise StoreUnavailableError(
                f"cannot reach PostgreSQL at {self.display_location}: {redact_dsn(str(exc)).strip()}"
            ) from exc
        try:
            if self.read_only:
                self._check_readable(conn)
            else:
                self._migrate(conn)
        except BaseException as exc:
            conn.close()
            if isinstance(exc, psycopg.Error):
                raise self._translate(exc) from exc
            raise
        return conn

    def _check_readable(self, conn: Any) -> None:
        """Read-only sessions (the CLI's) never migrate: a database without our tables is empty."""
        conn.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        if not conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()[0]:
            raise StoreUnavailableError(
                f"no store at {self.display_location}: the database holds no ricecoder-otel tables "
                "(run the application with the local exporters, or pass another --store)"
            )
        check_not_newer(self.backend, applied_version(conn), self.display_location)

    def _migrate(self, conn: Any) -> None:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK_KEY,))
            conn.execute(BOOTSTRAP_SQL)
            applied = applied_version(conn)
            check_not_newer(self.backend, applied, self.display_location)
            for migration in migrations_for(self.backend)[applied:]:
                conn.execute(migration.sql)
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at_ns) VALUES (%s, %s, %s)",
                    (migration.version, migration.name, self.clock()),
                )

    @contextmanager
    def _transaction(self, write: bool = False) -> Iterator[Cursor]:
        if write and self.read_only:
            raise StoreReadOnlyError(
                f"PostgreSQL store {self.display_location} was opened read-only: writes are refused"
            )
        try:
            with self._slot.use() as conn, conn.transaction(), conn.cursor() as cur:
                yield cur
        except psycopg.Error as exc:
            error = self._translate(exc)
            if isinstance(error, StoreUnavailableError):
                self._slot.discard()
            raise error from exc

    def _translate(self, exc: Exception) -> StoreError:
        where = self.display_location
        detail = redact_dsn(str(exc)).strip()
        if isinstance(exc, pg_errors.DiskFull | pg_errors.OutOfMemory):
            return StoreFullError(
                f"PostgreSQL store {where} has no room ({detail}): new telemetry is dropped and stored rows are kept"
            )
        if isinstance(exc, pg_errors.ReadOnlySqlTransaction | pg_errors.InsufficientPrivilege):
            return StoreReadOnlyError(f"PostgreSQL store {where} cannot be written ({detail})")
        if isinstance(exc, psycopg.OperationalError):
            return StoreUnavailableError(f"lost the connection to PostgreSQL at {where} ({detail})")
        return StoreError(f"PostgreSQL store {where}: {detail}")

    def _used_bytes(self, cur: Cursor) -> int:
        """Row data of the telemetry tables (indexes and dead rows excluded: they are reused)."""
        total = 0
        for table, _ in TELEMETRY_TABLES:
            cur.execute(f"SELECT COALESCE(SUM(pg_column_size(t.*)), 0) FROM {table} AS t")
            total += int(cur.fetchone()[0])
        return total

    def _reclaim_space(self) -> None:
        """Nothing to do: autovacuum makes deleted rows' space reusable."""

    def _table_exists(self, cur: Cursor, table: str) -> bool:
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", (table,))
        return bool(cur.fetchone()[0])

    def schema_version(self) -> int:
        try:
            with self._slot.use() as conn:
                return applied_version(conn)
        except psycopg.Error as exc:
            raise self._translate(exc) from exc

    def close(self) -> None:
        self._slot.close()
