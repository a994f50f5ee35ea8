"""Retention per data class on SQLite and PostgreSQL: old rows go, young rows stay, every purge is audited."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from ricecoder_otel.compliance.audit import AuditError, AuditTrail, verify_journal
from ricecoder_otel.compliance.audit.journal import JOURNAL, AuditJournal
from ricecoder_otel.compliance.retention import HIPAA_AUDIT_FLOOR, RetentionEngine, retention_periods
from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.store import Store
from ricecoder_otel.store.records import RetentionPolicy
from tests.unit.compliance.retention.rows import DAY_NS, audit_log, count, subject_rows

KEY = b"retention-test-key-32-bytes-long"
NOW_S = 1_800_000_000.0
NOW_NS = int(NOW_S * 1e9)


def trail(directory: Path) -> AuditTrail:
    return AuditTrail(lambda: AuditJournal(directory, key=KEY, clock=lambda: NOW_S), clock=lambda: NOW_S)


def records(directory: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (directory / JOURNAL).read_bytes().splitlines()]


def audit_with(t: AuditTrail) -> Callable[..., Any]:
    def record(action: str, resource: str, outcome: str = "success", *, actor: str | None = None, **d: Any) -> Any:
        return t.record(action, resource, outcome, actor=actor, trace_id="", span_id="", details=d)

    return record


def test_every_class_loses_only_rows_past_its_period_and_each_purge_is_audited(
    make_store: Callable[..., Store], tmp_path: Path
) -> None:
    store = make_store()
    old, young = NOW_NS - 40 * DAY_NS, NOW_NS - 2 * DAY_NS
    tables = subject_rows(store, "old-user@example.com", "a" * 32, old, tag="old")
    subject_rows(store, "young-user@example.com", "b" * 32, young, tag="young")
    store.write_logs([audit_log(old)])  # an audit log record: kept for audit_log_retention, not 30 days
    config = MonitoringConfig.model_validate({"store": {"max_age": "30d"}, "compliance": {"retention": "30d"}})
    t = trail(tmp_path)
    run = RetentionEngine(store, audit_with(t), lambda: NOW_S).run(retention_periods(config))
    t.close()

    assert run.ok, [c.error for c in run.classes]
    by_class = {c.data_class: c for c in run.classes}
    assert by_class["telemetry"].deleted == {"spans": 1, "metric_points": 1, "logs": 1}
    assert by_class["audit"].rows == 0
    assert by_class["errors"].deleted == {"error_samples": 1, "error_groups": 1, "error_group_users": 1}
    assert by_class["incidents"].deleted["incidents"] == 1
    assert by_class["incidents"].deleted["incident_timeline"] == 1  # the append-only timeline, opened by the guard
    assert by_class["incidents"].deleted["silences"] == 1
    if "analytics_activity" in tables:
        assert by_class["analytics"].deleted["analytics_activity"] == 1
        assert by_class["analytics"].deleted["analytics_profiles"] == 1
    for table in tables - {"logs"}:
        assert count(store, table) == 1, table  # the young row of every table is still there
    assert count(store, "logs") == 2  # the young log record and the 40-day-old audit log record
    assert len(store.query_logs(event_name="ricecoder.audit")) == 1

    stored = records(tmp_path)
    purges = [r for r in stored if r["action"] == "retention.purge"]
    assert {r["resource"] for r in purges} == {f"store/{c.data_class}" for c in run.classes if c.rows}
    for purge in purges:
        data_class = purge["resource"].split("/")[1]
        assert purge["details"]["rows_deleted"] == by_class[data_class].rows
        assert purge["seq"] == by_class[data_class].audit_seq
    [summary] = [r for r in stored if r["action"] == "retention.run"]
    assert summary["details"]["rows_deleted"] == run.rows and summary["actor"] == "ricecoder-otel/retention"
    assert verify_journal(tmp_path, KEY).ok


def test_a_purge_that_cannot_be_audited_deletes_nothing(make_store: Callable[..., Store]) -> None:
    store = make_store()
    subject_rows(store, "someone@example.com", "c" * 32, NOW_NS - 40 * DAY_NS, tag="x")

    def failing(*args: Any, **kwargs: Any) -> Any:
        raise AuditError("no space left on the audit journal's disk")

    run = RetentionEngine(store, failing, lambda: NOW_S).run({"telemetry": timedelta(days=7)})
    assert not run.ok
    [telemetry] = run.classes
    assert telemetry.error == "AuditError: no space left on the audit journal's disk" and telemetry.deleted == {}
    assert run.error is not None
    assert count(store, "spans") == 1 and count(store, "logs") == 1 and count(store, "metric_points") == 1


def test_audit_log_records_survive_size_based_telemetry_retention(make_store: Callable[..., Store]) -> None:
    store = make_store(retention=RetentionPolicy(max_age_ns=None, max_bytes=1, interval_ns=None))
    for i in range(50):
        subject_rows(store, f"user-{i}@example.com", f"{i:032x}", NOW_NS - i * 1000, tag=str(i))
    store.write_logs([audit_log(NOW_NS - 10**12 - i) for i in range(20)])
    result = store.enforce_retention(NOW_NS)
    assert result.rows_deleted > 0
    assert count(store, "spans") == 0 and store.query_logs(limit=1000) == store.query_logs(
        event_name="ricecoder.audit", limit=1000
    )
    assert len(store.query_logs(event_name="ricecoder.audit", limit=1000)) == 20
    # Age-based telemetry retention keeps them too; only audit_log_retention removes them.
    store.retention = RetentionPolicy(max_age_ns=1, max_bytes=None, interval_ns=None)
    store.enforce_retention(NOW_NS)
    assert len(store.query_logs(event_name="ricecoder.audit", limit=1000)) == 20
    run = RetentionEngine(store, lambda *a, **k: None, lambda: NOW_S).run({"audit": timedelta(seconds=500)})
    assert run.classes[0].rows == 20 and count(store, "logs") == 0


def test_hipaa_raises_audit_retention_to_six_years_and_classes_fall_back() -> None:
    config = MonitoringConfig.model_validate(
        {"store": {"max_age": "7d"}, "compliance": {"audit_log_retention": "30d", "retention": "60d",
                                                    "data_retention": {"errors": "10d"}}}
    )  # fmt: skip
    periods = retention_periods(config)
    assert periods["audit"] == timedelta(days=30)
    assert periods["telemetry"] == timedelta(days=7)
    assert periods["analytics"] == periods["incidents"] == timedelta(days=60)
    assert periods["errors"] == timedelta(days=10)
    hipaa = config.model_copy(
        update={"compliance": config.compliance.model_copy(update={"standards": ["SOC2", "HIPAA"]})}
    )
    assert retention_periods(hipaa)["audit"] == HIPAA_AUDIT_FLOOR == timedelta(days=2190)
    assert retention_periods(MonitoringConfig())["audit"] == timedelta(days=2555)


def test_dry_run_counts_and_changes_nothing(make_store: Callable[..., Store]) -> None:
    store = make_store()
    subject_rows(store, "someone@example.com", "d" * 32, NOW_NS - 40 * DAY_NS, tag="x")
    calls: list[Any] = []
    run = RetentionEngine(store, lambda *a, **k: calls.append(a), lambda: NOW_S).run(
        {"telemetry": timedelta(days=7)}, dry_run=True
    )
    assert run.classes[0].deleted == {"spans": 1, "metric_points": 1, "logs": 1}
    assert calls == [] and count(store, "spans") == 1
