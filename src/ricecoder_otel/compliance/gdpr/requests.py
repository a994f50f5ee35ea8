"""Subject requests and their deadlines (GDPR Art. 12(3)): one month, or three once extended.

A request is stored with a reference to its subject (never the id), when it was received, when
it is due and when it was completed. "One month" is a calendar month: received on 31 January,
due on the last day of February, at the same time of day.
"""

from __future__ import annotations

import calendar
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from ricecoder_otel.compliance.gdpr.scan import sql_store
from ricecoder_otel.store.base import Store
from ricecoder_otel.store.sql import Cursor

RequestKind = Literal["erasure", "access"]
DEADLINE_MONTHS = 1
EXTENDED_MONTHS = 3
"""Art. 12(3): one month, extendable by two further months when the subject is told why."""

_COLUMNS = "id, kind, subject_ref, state, received_ns, due_ns, extended, completed_ns, rows_deleted, detail"


class RequestError(LookupError):
    """No such request, or the request log is not in this store."""


def add_months(epoch_s: float, months: int) -> float:
    """``epoch_s`` plus calendar months (clamped to the month's last day), in UTC."""
    moment = datetime.fromtimestamp(epoch_s, UTC)
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day).timestamp()


@dataclass(frozen=True)
class SubjectRequest:
    id: str
    kind: str
    subject_ref: str
    state: str
    received_ns: int
    due_ns: int
    extended: bool
    completed_ns: int | None
    rows_deleted: int
    detail: dict[str, Any]

    def on_time(self, now_ns: int) -> bool:
        """Completed by its deadline, or still open with time left."""
        done = self.completed_ns if self.completed_ns is not None else now_ns
        return done <= self.due_ns

    def to_json(self, now_ns: int) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "subject_ref": self.subject_ref,
            "state": self.state,
            "received": _iso(self.received_ns),
            "due": _iso(self.due_ns),
            "extended": self.extended,
            "completed": _iso(self.completed_ns) if self.completed_ns is not None else None,
            "rows_deleted": self.rows_deleted,
            "on_time": self.on_time(now_ns),
            "detail": self.detail,
        }


def _iso(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _row(row: Any) -> SubjectRequest:
    detail = row[9]
    return SubjectRequest(
        id=str(row[0]),
        kind=str(row[1]),
        subject_ref=str(row[2]),
        state=str(row[3]),
        received_ns=int(row[4]),
        due_ns=int(row[5]),
        extended=bool(row[6]),
        completed_ns=None if row[7] is None else int(row[7]),
        rows_deleted=int(row[8]),
        detail=json.loads(detail) if isinstance(detail, str) else dict(detail or {}),
    )


class RequestLog:
    """The ``gdpr_requests`` table (migration 0007) through the SQL store's helpers."""

    def __init__(self, store: Store) -> None:
        self.store = sql_store(store)

    def available(self) -> bool:
        with self.store._transaction() as cur:
            return self.store._table_exists(cur, "gdpr_requests")

    def open(self, cur: Cursor, kind: RequestKind, ref: str, now_s: float) -> SubjectRequest:
        """Record a received request inside the caller's transaction."""
        request = SubjectRequest(
            id=str(uuid.uuid4()),
            kind=kind,
            subject_ref=ref,
            state="received",
            received_ns=int(now_s * 1e9),
            due_ns=int(add_months(now_s, DEADLINE_MONTHS) * 1e9),
            extended=False,
            completed_ns=None,
            rows_deleted=0,
            detail={},
        )
        cur.execute(
            self.store._sql(f"INSERT INTO gdpr_requests ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
            (request.id, kind, ref, request.state, request.received_ns, request.due_ns, 0, None, 0, "{}"),
        )
        return request

    def complete(self, cur: Cursor, request_id: str, now_s: float, rows: int, detail: dict[str, Any]) -> None:
        cur.execute(
            self.store._sql(
                "UPDATE gdpr_requests SET state = 'completed', completed_ns = ?, rows_deleted = ?, detail = ?"
                " WHERE id = ?"
            ),
            (int(now_s * 1e9), rows, json.dumps(detail, sort_keys=True), request_id),
        )

    def extend(self, request_id: str, reason: str) -> SubjectRequest:
        """Move an open request's deadline to three months after receipt (the subject was told why)."""
        with self.store._transaction(write=True) as cur:
            found = self._get(cur, request_id)
            if found.state == "completed":
                raise RequestError(f"request {request_id} is already completed")
            due = int(add_months(found.received_ns / 1e9, EXTENDED_MONTHS) * 1e9)
            detail = {**found.detail, "extension_reason": reason}
            cur.execute(
                self.store._sql("UPDATE gdpr_requests SET due_ns = ?, extended = 1, detail = ? WHERE id = ?"),
                (due, json.dumps(detail, sort_keys=True), request_id),
            )
            return self._get(cur, request_id)

    def _get(self, cur: Cursor, request_id: str) -> SubjectRequest:
        cur.execute(self.store._sql(f"SELECT {_COLUMNS} FROM gdpr_requests WHERE id = ?"), (request_id,))
        row = cur.fetchone()
        if row is None:
            raise RequestError(f"no subject request {request_id}")
        return _row(row)

    def list(self, since_ns: int | None = None) -> list[SubjectRequest]:
        """Requests received since ``since_ns`` plus every one still open, newest first."""
        with self.store._transaction() as cur:
            if not self.store._table_exists(cur, "gdpr_requests"):
                raise RequestError("this store has no gdpr_requests table (migration 0007 not applied)")
            cur.execute(
                self.store._sql(
                    f"SELECT {_COLUMNS} FROM gdpr_requests WHERE received_ns >= ? OR state <> 'completed'"
                    " ORDER BY received_ns DESC"
                ),
                (since_ns if since_ns is not None else -(2**63),),
            )
            return [_row(row) for row in cur.fetchall()]
