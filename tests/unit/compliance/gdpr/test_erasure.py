"""Erasure and access by subject on SQLite and PostgreSQL: no trace of the subject is left in any table."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ricecoder_otel.analytics.privacy import Pseudonymiser
from ricecoder_otel.compliance.audit import AuditTrail, verify_journal
from ricecoder_otel.compliance.audit.journal import JOURNAL, AuditJournal
from ricecoder_otel.compliance.gdpr import RequestLog, SubjectError, access_export, erase, subject
from ricecoder_otel.compliance.gdpr.scan import sql_store, tables
from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.store import Store
from tests.unit.compliance.retention.rows import DAY_NS, subject_rows

KEY = b"gdpr-test-checkpoint-key-32bytes"
ANALYTICS_KEY = "analytics-pseudonym-key-of-32-chars!"
NOW_S = 1_800_000_000.0
NOW_NS = int(NOW_S * 1e9)
ALICE = "alice.o'connor+tag@example.com"
BOB = "bob.smith@example.org"


def config() -> MonitoringConfig:
    return MonitoringConfig.model_validate({"analytics": {"pseudonym_key": ANALYTICS_KEY}})


def audit_fn(directory: Path) -> tuple[AuditTrail, Callable[..., Any]]:
    t = AuditTrail(lambda: AuditJournal(directory, key=KEY, clock=lambda: NOW_S), clock=lambda: NOW_S)

    def record(action: str, resource: str, outcome: str = "success", *, actor: str | None = None, **d: Any) -> Any:
        return t.record(action, resource, outcome, actor=actor, trace_id="", span_id="", details=d)

    return t, record


def every_text_value(store: Store) -> list[tuple[str, str]]:
    """(table, value) for every text or JSON cell of every table, read back from the live schema."""
    sql = sql_store(store)
    found: list[tuple[str, str]] = []
    with sql._transaction() as cur:
        for table in tables(sql, cur):
            cur.execute(f'SELECT * FROM "{table.name}"')
            for row in cur.fetchall():
                found += [(table.name, json.dumps(v) if isinstance(v, dict | list) else str(v)) for v in row]
    return found


def expected(written: set[str]) -> dict[str, int]:
    """Two rows of Alice per table, one analytics profile."""
    return {table: 1 if table == "analytics_profiles" else 2 for table in written}


def test_erasure_leaves_no_trace_of_the_subject_in_any_table(make_store: Callable[..., Store], tmp_path: Path) -> None:
    store = make_store()
    pseudonymise = Pseudonymiser(ANALYTICS_KEY)
    alice = subject(ALICE, config())
    assert pseudonymise(ALICE) in alice.forms  # the analytics pseudonym is the one analytics stores
    # Error groups and incidents rows name no user: they are written but hold no trace of her.
    written = subject_rows(store, ALICE, pseudonymise(ALICE), NOW_NS - DAY_NS, tag="a1") - {"error_groups", "incidents"}
    subject_rows(store, ALICE, pseudonymise(ALICE), NOW_NS - 2 * DAY_NS, tag="a2", profile=False)
    subject_rows(store, BOB, pseudonymise(BOB), NOW_NS - DAY_NS, tag="b1")
    before = every_text_value(store)
    assert any(ALICE in v or pseudonymise(ALICE) in v for _, v in before)

    exported = access_export(store, alice, audit=lambda *a, **k: None, clock=lambda: NOW_S)
    assert set(exported["tables"]) == written
    assert {t: len(rows) for t, rows in exported["tables"].items()} == expected(written)

    trail, audit = audit_fn(tmp_path)
    done = erase(store, alice, audit=audit, clock=lambda: NOW_S)
    trail.close()

    after = every_text_value(store)
    leftovers = [(t, v) for t, v in after if any(form in v for form in alice.forms)]
    assert leftovers == []
    assert done.deleted == expected(written)
    assert {t for t, v in after if BOB in v or pseudonymise(BOB) in v} == written  # Bob's rows are all there

    access, request = sorted(RequestLog(store).list(), key=lambda r: r.kind)
    assert (access.kind, access.state) == ("access", "completed")  # the export above was tracked too
    assert (request.kind, request.state, request.rows_deleted) == ("erasure", "completed", done.rows)
    assert request.subject_ref == alice.ref and request.on_time(NOW_NS)
    journal = (tmp_path / JOURNAL).read_text()
    assert ALICE not in journal and pseudonymise(ALICE) not in journal  # the audit trail names a reference only
    [record] = [json.loads(line) for line in journal.splitlines()]
    assert record["action"] == "gdpr.erasure" and record["details"]["rows_deleted"] == done.rows
    assert record["resource"] == f"subject/{alice.ref[:16]}"
    assert verify_journal(tmp_path, KEY).ok


def test_a_short_subject_id_is_refused_rather_than_matching_everything() -> None:
    with pytest.raises(SubjectError, match="at least 4"):
        subject("42")
