"""The check "no PII detected in exported telemetry", evaluated from a sample of the stored telemetry."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from ricecoder_otel.compliance.checks.pii import scan_store, scanner
from ricecoder_otel.compliance.reports import ComplianceEngine, ComplianceReport, render
from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.store import LogRow, MetricPoint, SpanRecord, Store

LEAK = "jane.doe@example.org"
NOW_NS = time.time_ns()


def telemetry(store: Store, *, leak: bool) -> None:
    """Realistic clean telemetry (ids, versions, redaction markers), and optionally one leaked email."""
    store.write_spans([
        SpanRecord("ab" * 16, f"{i:016x}", None, "GET /orders/{id}", "SERVER", NOW_NS - 10**9, NOW_NS - 10**8,
                   attributes={"http.route": "/orders/{id}", "order.id": "3f2b9c1e-8a4d-4e7b-9c2a-1d5e6f7a8b9c",
                               "enduser.email": "[REDACTED:email]", "service.version": "1.4.2",
                               "ricecoder.redacted.count": 1},
                   events=[{"name": "exception", "attributes": {"exception.message": "order 4111 not found"}}])
        for i in range(1, 4)
    ])  # fmt: skip
    store.write_metric_points([
        MetricPoint(NOW_NS - 10**9, "http.server.request.duration", "histogram", "s",
                    attributes={"http.route": "/orders/{id}", "http.response.status_code": 200}, count=3, sum=0.3,
                    bucket_bounds=[0.1], bucket_counts=[0, 3])
    ])  # fmt: skip
    body = f"password reset link sent to {LEAK}" if leak else "password reset link sent to [HASHED:email:0f3a]"
    store.write_logs([
        LogRow(NOW_NS - 10**9, 9, "INFO", body, attributes={"code.function": "send_reset"}),
        LogRow(NOW_NS - 10**9, 9, "INFO", "cache warmed in 12 ms", attributes={"build": "2026.11.30-7f3c2a1"}),
    ])  # fmt: skip


def soc2(store: Store, tmp_path: Path) -> ComplianceReport:
    config = MonitoringConfig.model_validate({"compliance": {"audit": {"path": str(tmp_path / "audit")}}})
    engine = ComplianceEngine(config, store=store, env={}, journal_dir=tmp_path / "audit")
    return engine.generate_compliance_report("SOC2", NOW_NS / 1e9 - 3600, NOW_NS / 1e9 + 1)


def test_one_leaked_email_fails_the_check_with_counts_and_never_the_value(
    make_store: Callable[..., Store], tmp_path: Path
) -> None:
    store = make_store()
    telemetry(store, leak=True)
    report = soc2(store, tmp_path)
    control = report.control("CC6.7")
    assert control.status == "not_satisfied" and report.status == "non_compliant"
    [pii] = [f for f in control.findings if f.check == "no-pii-in-telemetry"]
    assert pii.result.status == "fail"
    assert pii.result.evidence["detectors"] == {"email": 1}
    assert pii.result.evidence["records_with_findings"] == {"spans": 0, "logs": 1, "metric_points": 0}
    assert pii.result.evidence["scanned"] == {"spans": 3, "logs": 2, "metric_points": 1}
    assert "email=1" in pii.result.summary and pii.result.remediation
    for form in ("json", "markdown", "html", "oscal"):
        assert "jane.doe" not in render(report, form)
    assert "jane.doe" not in json.dumps(report.to_json())


def test_clean_telemetry_with_redaction_markers_and_near_misses_passes(
    make_store: Callable[..., Store], tmp_path: Path
) -> None:
    store = make_store()
    telemetry(store, leak=False)
    report = soc2(store, tmp_path)
    [pii] = [f for f in report.control("CC6.7").findings if f.check == "no-pii-in-telemetry"]
    assert pii.result.status == "pass", pii.result.evidence
    assert pii.result.evidence["detectors"] == {}
    assert sum(pii.result.evidence["scanned"].values()) == 6


def test_the_scan_is_bounded_and_limited_to_the_period(make_store: Callable[..., Store]) -> None:
    store = make_store()
    store.write_logs([LogRow(NOW_NS - i * 10**6, 9, "INFO", f"user{i}@example.com signed in") for i in range(50)])
    store.write_logs([LogRow(NOW_NS - 7200 * 10**9, 9, "INFO", "old@example.com signed in")])
    redactor = scanner(MonitoringConfig().compliance.redaction)
    scan = scan_store(store, redactor, NOW_NS - 3600 * 10**9, NOW_NS + 1, limit=10)
    assert scan.scanned["logs"] == 10 and scan.detectors == {"email": 10}
    everything = scan_store(store, redactor, NOW_NS - 3600 * 10**9, NOW_NS + 1)
    assert everything.scanned["logs"] == 50


def test_without_a_store_the_check_is_not_evaluated(tmp_path: Path) -> None:
    config = MonitoringConfig.model_validate({"compliance": {"audit": {"path": str(tmp_path / "audit")}}})
    report = ComplianceEngine(config, store=None, env={}, journal_dir=tmp_path / "audit").generate_compliance_report(
        "GDPR", 0, time.time()
    )
    [pii] = [f for c in report.controls for f in c.findings if f.check == "no-pii-in-telemetry"]
    assert pii.result.status == "not_evaluated"
