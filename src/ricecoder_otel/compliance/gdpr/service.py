"""Subject rights over the store: erasure (Art. 17) and access (Art. 15), each tracked and audited.

An erasure opens a request, deletes every row holding the subject, destroys the subject's audit
key (crypto-shredding: their pseudonyms and sealed fields in the journal and in every export can
no longer be linked or read, while the chain still verifies) and completes the request in one
transaction; its audit record is written before the commit, so an erasure that cannot be
audited does not happen. Audit records name the subject by reference only: the audit journal is
kept for ``audit_log_retention`` (a legal obligation, Art. 17(3)(b)) and must not hold the id.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ricecoder_otel.compliance.audit.journal import JOURNAL
from ricecoder_otel.compliance.audit.subject_keys import DIRECTORY as KEYS_DIRECTORY
from ricecoder_otel.compliance.audit.subject_keys import SubjectKeys
from ricecoder_otel.compliance.gdpr.requests import RequestError, RequestLog, SubjectRequest
from ricecoder_otel.compliance.gdpr.scan import delete_rows, matching_rows, sql_store
from ricecoder_otel.compliance.gdpr.subjects import Subject
from ricecoder_otel.store.base import Store

AuditFn = Callable[..., Any]
ACTOR = "ricecoder-otel/gdpr"


@dataclass
class Erasure:
    request: SubjectRequest
    deleted: dict[str, int] = field(default_factory=dict)
    audit_seq: int | None = None
    key_shredded: bool = False
    """The subject had an audit key (records with ``subject=``) and it was destroyed."""

    @property
    def rows(self) -> int:
        return sum(self.deleted.values())


def erase(
    store: Store,
    subject: Subject,
    *,
    audit: AuditFn,
    clock: Callable[[], float],
    actor: str = ACTOR,
    keys: SubjectKeys | None = None,
) -> Erasure:
    """Delete every stored row holding ``subject`` and shred their audit key (in ``keys``); the
    request is recorded as received and completed."""
    sql = sql_store(store)
    log = RequestLog(sql)
    with sql._transaction(write=True) as cur:
        if not sql._table_exists(cur, "gdpr_requests"):
            raise RequestError("this store has no gdpr_requests table (migration 0007 not applied)")
        now = clock()
        request = log.open(cur, "erasure", subject.ref, now)
        deleted = delete_rows(sql, cur, subject)
        rows = sum(deleted.values())
        shredded = keys is not None and keys.shred(subject.ref)
        record = audit(
            "gdpr.erasure",
            f"subject/{subject.ref[:16]}",
            "success",
            actor=actor,
            request_id=request.id,
            rows_deleted=rows,
            tables=",".join(f"{t}={n}" for t, n in sorted(deleted.items())),
            key_shredded=shredded,
        )
        log.complete(cur, request.id, clock(), rows, {"tables": deleted, "key_shredded": shredded})
    done = RequestLog(sql).list(since_ns=request.received_ns)
    final = next((r for r in done if r.id == request.id), request)
    return Erasure(final, deleted, getattr(record, "seq", None), shredded)


def access_export(
    store: Store,
    subject: Subject,
    *,
    audit: AuditFn,
    clock: Callable[[], float],
    journal: Path | None = None,
    actor: str = ACTOR,
) -> dict[str, Any]:
    """Everything held about ``subject``: matching store rows by table and matching audit records."""
    sql = sql_store(store)
    rows: dict[str, list[dict[str, Any]]] = {}
    for table, row in matching_rows(sql, subject):
        rows.setdefault(table, []).append(row)
    audit_records = _journal_lines(journal, subject) if journal is not None else []
    log = RequestLog(sql)
    request_id: str | None = None
    if log.available():
        with sql._transaction(write=True) as cur:
            now = clock()
            request = log.open(cur, "access", subject.ref, now)
            request_id = request.id
            audit(
                "gdpr.access",
                f"subject/{subject.ref[:16]}",
                "success",
                actor=actor,
                request_id=request.id,
                rows=sum(len(v) for v in rows.values()),
            )
            log.complete(cur, request.id, clock(), 0, {"tables": {t: len(v) for t, v in rows.items()}})
    return {
        "subject_ref": subject.ref,
        "request_id": request_id,
        "tables": rows,
        "audit_records": audit_records,
    }


def _journal_lines(journal: Path, subject: Subject) -> list[dict[str, Any]]:
    """Audit records naming the subject: by a stored form of the id, or by their audit key, whose
    sealed fields are opened (``personal``) while the key exists."""
    path = journal / JOURNAL
    if not path.is_file():
        return []
    key = SubjectKeys(journal / KEYS_DIRECTORY).get(subject.ref)
    marks = [*subject.forms, *([f'"subject_key":"{key.key_id}"'] if key is not None else [])]
    found = []
    with path.open("rb") as handle:
        for line in handle:
            text = line.decode("utf-8", "replace")
            if text.endswith("\n") and any(mark in text for mark in marks):
                record = json.loads(text)
                details = record.get("details", {})
                if key is not None and details.get("subject_key") == key.key_id and "sealed" in details:
                    record["personal"] = key.open(details["sealed"])
                found.append(record)
    return found
