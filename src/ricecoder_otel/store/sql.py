"""The SQL shared by the SQLite and PostgreSQL backends.

Statements are written with ``?`` placeholders; a backend with another paramstyle sets
``paramstyle`` and they are rewritten once. Backends supply connections, transactions,
error translation and a measure of their used size.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from abc import abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from ricecoder_otel.kernel.events import AUDIT_EVENT
from ricecoder_otel.store.base import DEFAULT_LIMIT, Clock, Store
from ricecoder_otel.store.errors import StoreError
from ricecoder_otel.store.records import (
    LogRow,
    MetricPoint,
    RetentionPolicy,
    RetentionResult,
    SpanRecord,
    StoreCounts,
)

logger = logging.getLogger("ricecoder_otel.store")


class Cursor(Protocol):
    """The part of a DB-API cursor the shared SQL uses (sqlite3 and psycopg 3 both fit)."""

    @property
    def rowcount(self) -> int: ...

    def execute(self, sql: Any, params: Any = ..., /) -> Any: ...
    def executemany(self, sql: Any, params_seq: Any, /) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


# Telemetry tables and the time column retention and ``since`` filters use.
TELEMETRY_TABLES: tuple[tuple[str, str], ...] = (
    ("spans", "start_ns"),
    ("metric_points", "time_ns"),
    ("logs", "time_ns"),
)

# Rows telemetry retention (age and size) never deletes: audit log records are kept for
# ``compliance.audit_log_retention`` by the compliance retention worker instead.
RETENTION_KEEPS: dict[str, str] = {"logs": f"event_name <> '{AUDIT_EVENT}'"}


def _kept(table: str) -> str:
    """The extra condition telemetry retention adds for ``table`` (`` AND ...`` or nothing)."""
    keep = RETENTION_KEEPS.get(table)
    return f" AND {keep}" if keep else ""


# Counts reported in ``StoreCounts.extra``: key -> (table, time column), for the capability
# tables the store's own migrations create (so the counts never depend on what was imported).
EXTRA_COUNTED_TABLES: dict[str, tuple[str, str]] = {
    "error_groups": ("error_groups", "last_seen_ns"),
    "analytics_activity": ("analytics_activity", "first_ns"),
}

_SPAN_COLUMNS = (
    "trace_id, span_id, parent_span_id, name, kind, start_ns, end_ns, status_code, status_message,"
    " service_name, attributes, events, resource"
)
_METRIC_COLUMNS = "time_ns, name, kind, unit, attributes, value, count, sum, bucket_bounds, bucket_counts, service_name"
_LOG_COLUMNS = "time_ns, severity_number, severity_text, body, event_name, trace_id, span_id, attributes, service_name"
_MAX_SIZE_PASSES = 32


def encode_json(value: Any) -> str | None:
    """Compact, key-sorted, strict JSON (equal attribute sets give equal text); None stays NULL.

    NaN and infinities (a float attribute may hold them) are stored as null: PostgreSQL's JSONB
    rejects them, which would drop the whole batch, and strict readers reject them in SQLite.
    """
    if value is None:
        return None
    return json.dumps(_finite(value), sort_keys=True, separators=(",", ":"), default=str, allow_nan=False)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def decode_json(value: Any) -> Any:
    """SQLite returns JSON as text, psycopg returns JSONB already decoded."""
    return json.loads(value) if isinstance(value, str) else value


def _placeholders(n: int) -> str:
    return ", ".join("?" * n)


class SqlStore(Store):
    """``Store`` written once in SQL; a backend adds connections, transactions and its errors."""

    paramstyle = "qmark"

    def __init__(self, location: str, *, retention: RetentionPolicy | None = None, clock: Clock | None = None):
        super().__init__(location, retention=retention, clock=clock)
        self._retention_lock = threading.Lock()
        self._last_retention_ns: int | None = None
        self._retention_warned: set[type[StoreError]] = set()

    @abstractmethod
    def _transaction(self, write: bool = False) -> AbstractContextManager[Cursor]:
        """A cursor inside one transaction (``write``: one that will modify rows).

        Driver errors leave it as ``StoreError``."""

    @abstractmethod
    def _used_bytes(self, cur: Cursor) -> int:
        """Bytes the store's data occupies now."""

    @abstractmethod
    def _reclaim_space(self) -> None:
        """Give space freed by deletes back (after retention)."""

    @abstractmethod
    def _table_exists(self, cur: Cursor, table: str) -> bool: ...

    def _sql(self, statement: str) -> str:
        return statement.replace("?", "%s") if self.paramstyle == "format" else statement

    # writes ----------------------------------------------------------------------------
    def _insert(self, table: str, columns: str, rows: list[tuple[Any, ...]]) -> int:
        if not rows:
            return 0
        statement = f"INSERT INTO {table} ({columns}) VALUES ({_placeholders(len(rows[0]))})"
        with self._transaction(write=True) as cur:
            cur.executemany(self._sql(statement), rows)
        self._retention_if_due()
        return len(rows)

    def _retention_if_due(self) -> None:
        """Apply retention from the writing thread when the policy's interval has passed.

        A failure here does not fail the write that already committed: it is logged once.
        """
        interval = self.retention.interval_ns
        now = self.clock()
        with self._retention_lock:
            if interval is None or (self._last_retention_ns is not None and now - self._last_retention_ns < interval):
                return
            self._last_retention_ns = now
        try:
            self.enforce_retention(now)
        except StoreError as exc:
            if type(exc) not in self._retention_warned:
                self._retention_warned.add(type(exc))
                logger.warning("retention of %s failed: %s", self.display_location, exc)

    def write_spans(self, spans: Sequence[SpanRecord]) -> int:
        rows = [
            (
                s.trace_id, s.span_id, s.parent_span_id, s.name, s.kind, s.start_ns, s.end_ns,
                s.status_code, s.status_message, s.service_name,
                encode_json(s.attributes), encode_json(s.events), encode_json(s.resource),
            )
            for s in spans
        ]  # fmt: skip
        return self._insert("spans", _SPAN_COLUMNS, rows)

    def write_metric_points(self, points: Sequence[MetricPoint]) -> int:
        rows = [
            (
                p.time_ns, p.name, p.kind, p.unit, encode_json(p.attributes), p.value, p.count, p.sum,
                encode_json(p.bucket_bounds), encode_json(p.bucket_counts), p.service_name,
            )
            for p in points
        ]  # fmt: skip
        return self._insert("metric_points", _METRIC_COLUMNS, rows)

    def write_logs(self, logs: Sequence[LogRow]) -> int:
        rows = [
            (
                r.time_ns, r.severity_number, r.severity_text, r.body, r.event_name, r.trace_id, r.span_id,
                encode_json(r.attributes), r.service_name,
            )
            for r in logs
        ]  # fmt: skip
        return self._insert("logs", _LOG_COLUMNS, rows)

    # reads -----------------------------------------------------------------------------
    def _select(
        self, table: str, columns: str, time_column: str, filters: list[tuple[str, Any]], limit: int
    ) -> list[Any]:
        where = [clause for clause, value in filters if value is not None]
        params = [value for _, value in filters if value is not None]
        statement = f"SELECT {columns} FROM {table}"
        if where:
            statement += " WHERE " + " AND ".join(where)
        statement += f" ORDER BY {time_column} DESC, id DESC LIMIT ?"
        with self._transaction() as cur:
            cur.execute(self._sql(statement), [*params, max(0, int(limit))])
            return cur.fetchall()

    def query_spans(
        self,
        since_ns: int | None = None,
        until_ns: int | None = None,
        name: str | None = None,
        trace_id: str | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> list[SpanRecord]:
        filters = [("start_ns >= ?", since_ns), ("start_ns < ?", until_ns), ("name = ?", name),
                   ("trace_id = ?", trace_id)]  # fmt: skip
        return [
            SpanRecord(
                trace_id=r[0], span_id=r[1], parent_span_id=r[2], name=r[3], kind=r[4], start_ns=int(r[5]),
                end_ns=int(r[6]), status_code=r[7], status_message=r[8], service_name=r[9],
                attributes=decode_json(r[10]), events=decode_json(r[11]), resource=decode_json(r[12]),
            )
            for r in self._select("spans", _SPAN_COLUMNS, "start_ns", filters, limit)
        ]  # fmt: skip

    def query_metrics(
        self, since_ns: int | None = None, name: str | None = None, limit: int = DEFAULT_LIMIT
    ) -> list[MetricPoint]:
        filters = [("time_ns >= ?", since_ns), ("name = ?", name)]
        return [
            MetricPoint(
                time_ns=int(r[0]), name=r[1], kind=r[2], unit=r[3], attributes=decode_json(r[4]), value=r[5],
                count=None if r[6] is None else int(r[6]), sum=r[7], bucket_bounds=decode_json(r[8]),
                bucket_counts=decode_json(r[9]), service_name=r[10],
            )
            for r in self._select("metric_points", _METRIC_COLUMNS, "time_ns", filters, limit)
        ]  # fmt: skip

    def query_logs(
        self,
        since_ns: int | None = None,
        min_severity: int | None = None,
        limit: int = DEFAULT_LIMIT,
        event_name: str | None = None,
    ) -> list[LogRow]:
        filters = [("time_ns >= ?", since_ns), ("severity_number >= ?", min_severity), ("event_name = ?", event_name)]
        return [
            LogRow(
                time_ns=int(r[0]), severity_number=r[1], severity_text=r[2], body=r[3], event_name=r[4],
                trace_id=r[5], span_id=r[6], attributes=decode_json(r[7]), service_name=r[8],
            )
            for r in self._select("logs", _LOG_COLUMNS, "time_ns", filters, limit)
        ]  # fmt: skip

    def counts(self, since_ns: int | None = None) -> StoreCounts:
        since = since_ns if since_ns is not None else -(2**63)
        with self._transaction() as cur:
            spans = self._scalar(cur, "SELECT COUNT(*) FROM spans WHERE start_ns >= ?", since)
            series = self._scalar(
                cur,
                "SELECT COUNT(*) FROM (SELECT DISTINCT service_name, name, attributes"
                " FROM metric_points WHERE time_ns >= ?) AS series",
                since,
            )
            logs = self._scalar(cur, "SELECT COUNT(*) FROM logs WHERE time_ns >= ?", since)
            extra = {
                key: self._scalar(cur, f"SELECT COUNT(*) FROM {table} WHERE {column} >= ?", since)
                for key, (table, column) in EXTRA_COUNTED_TABLES.items()
                if self._table_exists(cur, table)
            }
        return StoreCounts(spans=spans, metric_series=series, logs=logs, extra=extra)

    def _scalar(self, cur: Cursor, statement: str, *params: Any) -> int:
        cur.execute(self._sql(statement), params)
        row = cur.fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    # retention -------------------------------------------------------------------------
    def enforce_retention(self, now_ns: int | None = None) -> RetentionResult:
        now = now_ns if now_ns is not None else self.clock()
        policy = self.retention
        deleted = 0
        with self._transaction(write=True) as cur:
            before = self._used_bytes(cur)
            if policy.max_age_ns is not None:
                deleted += self._delete_before(cur, now - policy.max_age_ns, inclusive=False)
        if policy.max_bytes is not None:
            deleted += self._shrink_to(policy.max_bytes)
        if deleted:
            self._reclaim_space()
        with self._transaction() as cur:
            after = self._used_bytes(cur)
        return RetentionResult(rows_deleted=deleted, bytes_before=before, bytes_after=after)

    def _delete_before(self, cur: Cursor, cutoff_ns: int, *, inclusive: bool) -> int:
        op = "<=" if inclusive else "<"
        total = 0
        for table, column in TELEMETRY_TABLES:
            cur.execute(self._sql(f"DELETE FROM {table} WHERE {column} {op} ?{_kept(table)}"), [cutoff_ns])
            total += max(0, int(cur.rowcount))
        return total

    def _shrink_to(self, max_bytes: int) -> int:
        """Delete the oldest telemetry, a proportional slice per pass, until under ``max_bytes``."""
        deleted = 0
        for _ in range(_MAX_SIZE_PASSES):
            with self._transaction(write=True) as cur:
                used = self._used_bytes(cur)
                if used <= max_bytes:
                    break
                rows = sum(
                    self._scalar(cur, f"SELECT COUNT(*) FROM {table} WHERE 1 = 1{_kept(table)}")
                    for table, _ in TELEMETRY_TABLES
                )
                if rows == 0:
                    break
                excess = math.ceil(rows * (used - max_bytes) / used) + 1
                cutoff = self._nth_oldest_time(cur, min(excess, rows))
                deleted += self._delete_before(cur, cutoff, inclusive=True)
            self._reclaim_space()
        return deleted

    def _nth_oldest_time(self, cur: Cursor, n: int) -> int:
        union = " UNION ALL ".join(
            f"SELECT {column} AS t FROM {table} WHERE 1 = 1{_kept(table)}" for table, column in TELEMETRY_TABLES
        )
        cur.execute(self._sql(f"SELECT t FROM ({union}) AS u ORDER BY t LIMIT 1 OFFSET ?"), [n - 1])
        row = cur.fetchone()
        return int(row[0])
