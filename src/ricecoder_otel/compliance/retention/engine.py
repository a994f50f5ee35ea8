"""One retention pass over a store: per data class, delete what is past its period, audit it.

Each class is purged in its own transaction, and its audit record is written inside that
transaction, before the commit: when the audit trail cannot record (:class:`AuditError`), the
transaction rolls back and nothing of that class is deleted. A run ends with one
``retention.run`` record (the evidence that retention is enforced, even when nothing was due).
Plain Python over the SQL store's helpers; the clock is injected.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from ricecoder_otel.compliance.retention.classes import DATA_CLASSES, DAY_NS, PURGES, DataClass, Purge
from ricecoder_otel.store.base import Store
from ricecoder_otel.store.sql import Cursor, SqlStore

AuditFn = Callable[..., Any]
"""``audit(action, resource, outcome, *, actor=..., **details)``; returns the record or None when off."""

ACTOR = "ricecoder-otel/retention"


@dataclass
class ClassPurge:
    """What one data class lost in a run."""

    data_class: DataClass
    retention_days: float
    cutoff_ns: int
    deleted: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    """Tables this store does not have (their capability is not migrated here)."""
    audit_seq: int | None = None
    error: str | None = None

    @property
    def rows(self) -> int:
        return sum(self.deleted.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "data_class": self.data_class,
            "retention_days": self.retention_days,
            "cutoff_ns": self.cutoff_ns,
            "rows_deleted": self.rows,
            "deleted": dict(self.deleted),
            "skipped_tables": list(self.skipped),
            "audit_seq": self.audit_seq,
            "error": self.error,
        }


@dataclass
class RetentionRun:
    at: float
    classes: list[ClassPurge] = field(default_factory=list)
    audit_seq: int | None = None
    error: str | None = None
    """The run's own audit record could not be written."""

    @property
    def ok(self) -> bool:
        return self.error is None and all(c.error is None for c in self.classes)

    @property
    def rows(self) -> int:
        return sum(c.rows for c in self.classes)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "at": self.at,
            "rows_deleted": self.rows,
            "audit_seq": self.audit_seq,
            "error": self.error,
            "classes": [c.to_json() for c in self.classes],
        }


def _seq(record: Any) -> int | None:
    return getattr(record, "seq", None)


class RetentionEngine:
    """Enforces ``periods`` on ``store``; every purge goes through ``audit`` first."""

    def __init__(self, store: Store, audit: AuditFn, clock: Callable[[], float]) -> None:
        if not isinstance(store, SqlStore):
            raise TypeError(f"retention needs a SQL store, got {type(store).__name__}")
        self.store = store
        self.audit = audit
        self.clock = clock

    def run(self, periods: Mapping[DataClass, timedelta], *, dry_run: bool = False) -> RetentionRun:
        """Purge every class in ``periods`` (``dry_run``: count, delete nothing, audit nothing)."""
        now = self.clock()
        run = RetentionRun(at=now)
        for data_class in DATA_CLASSES:
            if data_class in periods:
                run.classes.append(self._purge(data_class, periods[data_class], now, dry_run))
        if not dry_run:
            try:
                record = self.audit(
                    "retention.run",
                    "store",
                    "success" if run.ok else "failure",
                    actor=ACTOR,
                    rows_deleted=run.rows,
                    classes=",".join(f"{c.data_class}={c.rows}" for c in run.classes),
                    errors=sum(1 for c in run.classes if c.error),
                )
                run.audit_seq = _seq(record)
            except Exception as error:
                run.error = f"{type(error).__name__}: {error}"
        return run

    def _purge(self, data_class: DataClass, period: timedelta, now: float, dry_run: bool) -> ClassPurge:
        cutoff_ns = int((now - period.total_seconds()) * 1e9)
        result = ClassPurge(data_class, round(period.total_seconds() / 86_400, 3), cutoff_ns)
        try:
            with self.store._transaction(write=not dry_run) as cur:
                for purge in PURGES[data_class]:
                    if not all(self.store._table_exists(cur, t) for t in (purge.table, *purge.requires)):
                        result.skipped.append(purge.table)
                        continue
                    result.deleted[purge.table] = self._apply(cur, purge, cutoff_ns, dry_run)
                if result.rows and not dry_run:
                    record = self.audit(
                        "retention.purge",
                        f"store/{data_class}",
                        "success",
                        actor=ACTOR,
                        data_class=data_class,
                        retention_days=result.retention_days,
                        cutoff_ns=cutoff_ns,
                        rows_deleted=result.rows,
                        tables=",".join(f"{t}={n}" for t, n in result.deleted.items() if n),
                    )
                    result.audit_seq = _seq(record)
        except Exception as error:
            result.deleted = {}
            result.error = f"{type(error).__name__}: {error}"
        return result

    def _apply(self, cur: Cursor, purge: Purge, cutoff_ns: int, dry_run: bool) -> int:
        params: list[int] = []
        if purge.unit == "ns":
            params = [cutoff_ns]
        elif purge.unit == "day":
            params = [cutoff_ns // DAY_NS]
        sql = self.store._sql
        if dry_run:
            cur.execute(sql(f"SELECT COUNT(*) FROM {purge.table} WHERE {purge.where}"), params)
            row = cur.fetchone()
            return int(row[0]) if row else 0
        if purge.guarded:
            cur.execute(sql("INSERT INTO compliance_purge_guard (active) VALUES (1)"))
        cur.execute(sql(f"DELETE FROM {purge.table} WHERE {purge.where}"), params)
        deleted = max(0, int(cur.rowcount))
        if purge.guarded:
            cur.execute(sql("DELETE FROM compliance_purge_guard"))
        return deleted
