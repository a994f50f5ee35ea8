"""Generated reports kept in the store (``compliance_reports``, migration 0007) as their JSON."""

from __future__ import annotations

import json
from typing import Any

from ricecoder_otel.compliance.reports.engine import ComplianceReport
from ricecoder_otel.store.base import Store
from ricecoder_otel.store.sql import SqlStore


class ReportStore:
    def __init__(self, store: Store) -> None:
        if not isinstance(store, SqlStore):
            raise TypeError(f"reports need a SQL store, got {type(store).__name__}")
        self.store = store

    def save(self, report: ComplianceReport) -> None:
        with self.store._transaction(write=True) as cur:
            cur.execute(
                self.store._sql(
                    "INSERT INTO compliance_reports (id, standard, status, generated_ns, start_ns, end_ns, report)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)"
                ),
                (
                    report.id,
                    report.standard,
                    report.status,
                    int(report.generated * 1e9),
                    int(report.start * 1e9),
                    int(report.end * 1e9),
                    json.dumps(report.to_json(), sort_keys=True, default=str),
                ),
            )

    def latest(self, standard: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        """Stored reports, newest first (their JSON)."""
        where = "WHERE standard = ?" if standard else ""
        params: tuple[Any, ...] = (standard, limit) if standard else (limit,)
        with self.store._transaction() as cur:
            cur.execute(
                self.store._sql(f"SELECT report FROM compliance_reports {where} ORDER BY generated_ns DESC LIMIT ?"),
                params,
            )
            return [json.loads(row[0]) for row in cur.fetchall()]
