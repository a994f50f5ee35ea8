"""Inside the pipeline: scheduled reports are stored and announced; the retention worker's pass is audited."""

from __future__ import annotations

import json
from pathlib import Path

from ricecoder_otel.compliance.audit.journal import JOURNAL
from ricecoder_otel.compliance.reports.capability import ComplianceReportingCapability
from ricecoder_otel.compliance.reports.store import ReportStore
from ricecoder_otel.compliance.retention.capability import RetentionCapability
from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.store import open_store
from ricecoder_otel.testing import RicecoderCapture

KEY = "scheduled-reports-key-32-characters"


def test_scheduled_reports_are_stored_and_announced_and_retention_is_audited(tmp_path: Path) -> None:
    config = MonitoringConfig.model_validate(
        {"compliance": {"standards": ["SOC2", "GDPR"], "audit": {"path": str(tmp_path / "audit"),
                                                                 "checkpoint_key": KEY}}}
    )  # fmt: skip
    capture = RicecoderCapture(config)
    try:
        retention = capture.pipeline.capability("retention")
        assert isinstance(retention, RetentionCapability)
        run = retention.run_now()
        assert run is not None and run.ok and run.audit_seq is not None
        capture.advance(60)  # the report covers the day up to now: the retention pass is inside it
        reporting = capture.pipeline.capability("compliance-reports")
        assert isinstance(reporting, ComplianceReportingCapability)
        reports = reporting.generate_now()
        assert [r.standard for r in reports] == ["SOC2", "GDPR"]
        events = capture.events("ricecoder.compliance.report")
        attrs = [dict(e.log_record.attributes or {}) for e in events]
        assert [a["ricecoder.compliance.standard"] for a in attrs] == ["SOC2", "GDPR"]
        assert [a["ricecoder.compliance.report.id"] for a in attrs] == [r.id for r in reports]
        assert [a["ricecoder.compliance.status"] for a in attrs] == [r.status for r in reports]
        gdpr = reports[1]
        assert gdpr.control("Art.5(1)(e)").status == "satisfied"  # the retention pass above is its evidence
        store = open_store(capture.config.store.location)
        try:
            assert {r["id"] for r in ReportStore(store).latest()} == {r.id for r in reports}
        finally:
            store.close()
    finally:
        capture.close()
    actions = [json.loads(line)["action"] for line in (tmp_path / "audit" / JOURNAL).read_text().splitlines()]
    assert actions == ["retention.run"]
