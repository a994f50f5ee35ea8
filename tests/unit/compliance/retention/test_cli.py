"""``ricecoder-otel retention run``, ``gdpr erase|export|requests|ropa`` and ``compliance report``."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from ricecoder_otel.cli import main
from ricecoder_otel.compliance.audit import AuditTrail, verify_journal
from ricecoder_otel.compliance.audit.journal import JOURNAL, AuditJournal
from ricecoder_otel.store import open_store
from tests.harness.store_rows import NO_RETENTION
from tests.unit.compliance.retention.rows import DAY_NS, count, subject_rows

KEY = "cli-checkpoint-key-of-32-characters"
USER = "carol@example.com"


@pytest.fixture
def store_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.delenv("RICECODER_CONFIG_FILE", raising=False)
    monkeypatch.setenv("RICECODER_COMPLIANCE__AUDIT__PATH", str(tmp_path / "audit"))
    monkeypatch.setenv("RICECODER_COMPLIANCE__AUDIT__CHECKPOINT_KEY", KEY)
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    path = str(tmp_path / "telemetry.db")
    store = open_store(path, retention=NO_RETENTION)  # the old rows stay until a test purges them
    now = time.time_ns()
    subject_rows(store, USER, "e" * 32, now - 60 * DAY_NS, tag="old")
    subject_rows(store, "dave@example.com", "f" * 32, now - DAY_NS, tag="new")
    store.close()
    return path


def actions(tmp_path: Path) -> list[str]:
    return [json.loads(line)["action"] for line in (tmp_path / "audit" / JOURNAL).read_text().splitlines()]


def test_retention_run_purges_and_audits(store_path: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["retention", "run", "--store", store_path, "--dry-run", "--json"]) == 0
    dry = json.loads(capsys.readouterr().out)
    assert dry["dry_run"] and dry["rows_deleted"] > 0 and not (tmp_path / "audit" / JOURNAL).exists()
    assert main(["retention", "run", "--store", store_path, "--json"]) == 0
    done = json.loads(capsys.readouterr().out)
    # The dry run does not count orphans of rows the same pass deletes (error_group_users of a purged group).
    assert done["rows_deleted"] == dry["rows_deleted"] + 1 and done["ok"]
    assert actions(tmp_path)[-1] == "retention.run" and "retention.purge" in actions(tmp_path)
    assert verify_journal(tmp_path / "audit", KEY.encode()).ok
    assert main(["retention", "run", "--store", store_path]) == 0
    assert "telemetry" in capsys.readouterr().out


def test_gdpr_export_erase_and_requests(store_path: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    trail = AuditTrail(lambda: AuditJournal(tmp_path / "audit", key=KEY.encode(), clock=time.time), clock=time.time)
    trail.record("account.read", "account/9", trace_id="", span_id="", subject=USER, personal={"plan": "gold"})
    trail.close()
    out = tmp_path / "carol.json"
    assert main(["gdpr", "export", USER, "--store", store_path, "--output", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    exported = json.loads(out.read_text())
    assert summary["rows"]["spans"] == 1 and exported["tables"]["spans"][0]["attributes"]
    assert [r["personal"] for r in exported["audit_records"]] == [{"plan": "gold"}]
    assert out.stat().st_mode & 0o777 == 0o600
    assert main(["gdpr", "erase", USER, "--store", store_path, "--json"]) == 0
    erased = json.loads(capsys.readouterr().out)
    assert erased["rows"]["spans"] == 1 and erased["request"]["state"] == "completed"
    assert erased["audit_key_shredded"] is True
    assert USER not in json.dumps(erased)  # the id is never printed back
    store = open_store(store_path)
    try:
        assert count(store, "spans") == 1  # Dave's
    finally:
        store.close()
    assert actions(tmp_path) == ["account.read", "gdpr.access", "gdpr.erasure"]
    assert main(["gdpr", "requests", "--store", store_path, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert sorted(r["kind"] for r in listed["requests"]) == ["access", "erasure"] and listed["late"] == 0
    assert main(["gdpr", "erase", "abc", "--store", store_path]) == 2
    assert "at least 4" in capsys.readouterr().err
    assert main(["gdpr", "ropa", "--json"]) == 0
    assert {a["data_class"] for a in json.loads(capsys.readouterr().out)["activities"]} == {
        "telemetry", "analytics", "audit", "incidents", "errors"}  # fmt: skip


def test_compliance_report_exit_codes_and_formats(
    store_path: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["retention", "run", "--store", store_path]) == 0
    capsys.readouterr()
    # Dave's rows were written straight into the store, unredacted: the telemetry PII check finds the
    # address (and never prints it); once his data is erased, the report is compliant.
    assert main(["compliance", "report", "--standard", "gdpr", "--store", store_path, "--json"]) == 1
    printed = capsys.readouterr().out
    assert json.loads(printed)["status"] == "non_compliant" and "dave@example.com" not in printed
    assert main(["gdpr", "erase", "dave@example.com", "--store", store_path]) == 0
    capsys.readouterr()
    assert main(["compliance", "report", "--standard", "gdpr", "--store", store_path, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "compliant"  # Art. 33: the register holds no breach
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector.example.com:4318")
    page = tmp_path / "soc2.html"
    code = main(["compliance", "report", "--standard", "SOC2", "--since", "7d", "--format", "html",
                 "--store", store_path, "--output", str(page)])  # fmt: skip
    assert code == 1
    assert "CC6.7            not_satisfied" in capsys.readouterr().out
    assert page.read_text().startswith("<!DOCTYPE html>")
    assert main(["compliance", "report", "--standard", "SOC2", "--since", "soon", "--store", store_path]) == 2
