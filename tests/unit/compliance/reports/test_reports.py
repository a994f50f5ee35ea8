"""Compliance reports: checks per control over configuration and evidence, waivers, four formats."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from ricecoder_otel.compliance.audit import AuditTrail
from ricecoder_otel.compliance.audit.journal import AuditJournal
from ricecoder_otel.compliance.reports import ComplianceEngine, ComplianceReport, render, to_html, to_oscal
from ricecoder_otel.compliance.reports.store import ReportStore
from ricecoder_otel.compliance.retention import RetentionEngine, retention_periods
from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.store import Store

KEY = "reports-test-checkpoint-key-32-bytes"
NOW = time.time()
HOSTILE = '</script><script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'


def configured(journal: Path, **compliance: Any) -> MonitoringConfig:
    return MonitoringConfig.model_validate(
        {"service_name": "shop", "compliance": {"audit": {"path": str(journal), "checkpoint_key": KEY}, **compliance}}
    )


def evidence(store: Store, config: MonitoringConfig) -> None:
    """A journal with a configuration change, a retention run and a signed checkpoint."""
    audit = config.compliance.audit
    trail = AuditTrail(lambda: AuditJournal(Path(str(audit.path)), key=KEY.encode(), clock=time.time), clock=time.time)

    def record(action: str, resource: str, outcome: str = "success", *, actor: str | None = None, **d: Any) -> Any:
        return trail.record(action, resource, outcome, actor=actor, trace_id="", span_id="", details=d)

    record("config.change", "ricecoder.yaml", "success", changed_paths=["alerting.rules"])
    RetentionEngine(store, record, time.time).run(retention_periods(config))
    trail.journal.checkpoint_if_due(force=True)
    trail.close()


def report(store: Store, config: MonitoringConfig, standard: str, env: dict[str, str]) -> ComplianceReport:
    engine = ComplianceEngine(
        config, store=store, env=env, journal_dir=Path(str(config.compliance.audit.path)), key=KEY.encode()
    )
    return engine.generate_compliance_report(standard, NOW - 30 * 86_400, time.time() + 1)


def test_a_configuration_without_violations_is_compliant(make_store: Callable[..., Store], tmp_path: Path) -> None:
    store = make_store()
    config = configured(tmp_path / "audit")
    evidence(store, config)
    result = report(store, config, "SOC2", {"OTEL_EXPORTER_OTLP_ENDPOINT": "https://collector.example.com:4318"})
    assert result.status == "compliant", {c.id: [f.result.summary for f in c.findings] for c in result.controls}
    assert [c.id for c in result.controls] == ["CC6.1", "CC6.7", "CC7.2", "CC7.3"]
    chain = next(f for f in result.control("CC7.2").findings if f.check == "audit-chain-verifies")
    assert chain.result.evidence["records"] >= 2 and chain.result.evidence["checkpoints"] == 1


def test_plain_http_to_a_remote_collector_is_non_compliant_with_its_control_and_remediation(
    make_store: Callable[..., Store], tmp_path: Path
) -> None:
    store = make_store()
    config = configured(tmp_path / "audit")
    evidence(store, config)
    env = {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector.example.com:4318/v1/traces",
           "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://127.0.0.1:4318/v1/metrics"}  # fmt: skip
    result = report(store, config, "SOC2", env)
    assert result.status == "non_compliant"
    assert {c.id: c.status for c in result.controls} == {
        "CC6.1": "satisfied", "CC6.7": "not_satisfied", "CC7.2": "satisfied", "CC7.3": "satisfied",
    }  # fmt: skip
    [tls] = [f for f in result.control("CC6.7").findings if f.result.status == "fail"]
    assert tls.check == "exporters-use-tls"
    assert "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://collector.example.com:4318" in tls.result.summary
    assert "127.0.0.1" not in tls.result.summary  # loopback is not a transmission over a network
    assert "https://" in tls.result.remediation
    hipaa = report(store, config, "HIPAA", env)
    assert hipaa.control("164.312(e)").status == "not_satisfied" and hipaa.status == "non_compliant"


def test_hipaa_and_gdpr_controls(make_store: Callable[..., Store], tmp_path: Path) -> None:
    store = make_store()
    config = configured(tmp_path / "audit", standards=["HIPAA"], audit_log_retention="365d")
    evidence(store, config)
    hipaa = report(store, config, "HIPAA", {})
    assert hipaa.status == "compliant"
    floor = hipaa.control("164.316(b)(2)").findings[0].result
    assert floor.evidence["configured_days"] == 365 and floor.evidence["effective_days"] == 2190
    short = configured(tmp_path / "audit", audit_log_retention="365d")  # not under the HIPAA profile: no floor
    assert report(store, short, "HIPAA", {}).control("164.316(b)(2)").status == "not_satisfied"
    gdpr = report(store, config, "GDPR", {})
    statuses = {c.id: c.status for c in gdpr.controls}
    assert statuses.pop("Art.33") == "satisfied"  # the breach register is kept and holds no late breach
    assert set(statuses.values()) == {"satisfied"} and gdpr.status == "compliant", [
        (c.id, [f.result.summary for f in c.findings]) for c in gdpr.controls if c.status == "not_satisfied"
    ]


def test_a_report_without_any_evidence_says_what_it_could_not_read(tmp_path: Path) -> None:
    config = configured(tmp_path / "missing")
    result = ComplianceEngine(config, env={}, journal_dir=tmp_path / "missing").generate_compliance_report(
        "SOC2", NOW - 86_400, NOW
    )
    assert result.status == "partial"
    assert result.control("CC7.3").status == "not_evaluated"
    assert "no audit journal" in result.problems["audit"] and result.problems["store"] == "no store given"


def test_waivers_apply_until_they_expire(make_store: Callable[..., Store], tmp_path: Path) -> None:
    store = make_store()
    future = datetime.fromtimestamp(NOW, UTC) + timedelta(days=30)
    past = datetime.fromtimestamp(NOW, UTC) - timedelta(days=1)
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector.example.com:4318"}
    for expires, status, overall in ((future, "waived", "compliant"), (past, "not_satisfied", "non_compliant")):
        config = configured(
            tmp_path / "audit",
            waivers=[{"control": "SOC2:CC6.7", "justification": "TLS terminates at the sidecar", "expires": expires,
                      "approved_by": "ciso"}],
        )  # fmt: skip
        evidence(store, config)
        result = report(store, config, "SOC2", env)
        control = result.control("CC6.7")
        assert (control.status, result.status) == (status, overall)
        assert control.waiver is not None and control.waiver.justification == "TLS terminates at the sidecar"
        assert [w.active for w in result.waivers] == [status == "waived"]


def test_oscal_assessment_results_have_the_required_structure(make_store: Callable[..., Store], tmp_path: Path) -> None:
    store = make_store()
    config = configured(tmp_path / "audit")
    evidence(store, config)
    result = report(store, config, "SOC2", {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector.example.com:4318"})
    document = json.loads(render(result, "oscal"))
    assert list(document) == ["assessment-results"]
    ar = document["assessment-results"]
    assert {"uuid", "metadata", "import-ap", "results"} <= set(ar)
    assert {"title", "last-modified", "version", "oscal-version"} <= set(ar["metadata"])
    [res] = ar["results"]
    assert {"uuid", "title", "description", "start", "findings", "observations", "reviewed-controls"} <= set(res)
    selected = res["reviewed-controls"]["control-selections"][0]["include-controls"]
    assert [c["control-id"] for c in selected] == ["soc2-cc6-1", "soc2-cc6-7", "soc2-cc7-2", "soc2-cc7-3"]
    states = {f["target"]["target-id"]: f["target"]["status"]["state"] for f in res["findings"]}
    assert states == {"soc2-cc6-1": "satisfied", "soc2-cc6-7": "not-satisfied", "soc2-cc7-2": "satisfied",
                      "soc2-cc7-3": "satisfied"}  # fmt: skip
    observations = {o["uuid"] for o in res["observations"]}
    for finding in res["findings"]:
        assert finding["target"]["type"] == "objective-id"
        assert {r["observation-uuid"] for r in finding["related-observations"]} <= observations
    assert to_oscal(result) == to_oscal(result)  # deterministic for one report


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += attrs

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def hostile_report(tmp_path: Path) -> ComplianceReport:
    config = MonitoringConfig.model_validate(
        {"service_name": HOSTILE, "compliance": {"waivers": [
            {"control": "SOC2:CC6.7", "justification": HOSTILE, "approved_by": HOSTILE, "expires": "2999-01-01"}]}}
    )  # fmt: skip
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": 'http://evil.example.com:4318/"><script>window.__pwned=3</script>'}
    return ComplianceEngine(config, env=env, journal_dir=tmp_path).generate_compliance_report("SOC2", NOW - 86_400, NOW)


def test_hostile_values_in_the_html_report_stay_text(tmp_path: Path) -> None:
    page = to_html(hostile_report(tmp_path))
    parsed = _Collect()
    parsed.feed(page)
    assert "script" not in parsed.tags and "img" not in parsed.tags
    assert not [name for name, _ in parsed.attrs if name.startswith("on")]
    text = "".join(parsed.text)
    assert HOSTILE in text  # shown, as text
    assert "Content-Security-Policy" in page and "script-src 'none'" in page
    markdown = render(hostile_report(tmp_path), "markdown")
    assert "<script>" not in markdown and "&lt;script&gt;" in markdown


def test_reports_are_stored(make_store: Callable[..., Store], tmp_path: Path) -> None:
    store = make_store()
    config = configured(tmp_path / "audit")
    first = report(store, config, "SOC2", {})
    second = report(store, config, "GDPR", {})
    saved = ReportStore(store)
    saved.save(first)
    saved.save(second)
    assert [r["id"] for r in saved.latest("SOC2")] == [first.id]
    assert {r["standard"] for r in saved.latest()} == {"SOC2", "GDPR"}
    assert saved.latest("GDPR")[0]["controls"] == second.to_json()["controls"]
