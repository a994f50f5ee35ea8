"""Each check fails, with a remediation, on the evidence it exists to catch, and passes without it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from ricecoder_otel.compliance.audit.verify import VerifyResult
from ricecoder_otel.compliance.checks.catalog import CHECKS
from ricecoder_otel.compliance.checks.endpoints import otlp_endpoints
from ricecoder_otel.compliance.checks.evidence import Evidence, IncidentAck
from ricecoder_otel.compliance.gdpr.requests import SubjectRequest
from ricecoder_otel.compliance.retention import retention_periods
from ricecoder_otel.config import MonitoringConfig

END = 1_800_000_000.0
DAY_NS = 86_400 * 10**9
END_NS = int(END * 1e9)
KEY = "checks-test-checkpoint-key-32-bytes"


def config(**compliance: Any) -> MonitoringConfig:
    return MonitoringConfig.model_validate({"compliance": {"audit": {"checkpoint_key": KEY}, **compliance}})


def evidence(cfg: MonitoringConfig | None = None, **changes: Any) -> Evidence:
    """Evidence every check passes on, with ``changes``."""
    cfg = cfg or config()
    verified = VerifyResult(journal="journal.jsonl", records=12, last_seq=12, checkpoints=2, signatures=("hmac",))
    base = Evidence(
        cfg, END - 30 * 86_400, END, otlp_endpoints({"OTEL_EXPORTER_OTLP_ENDPOINT": "https://collector.example.com"}),
        retention_periods(cfg), verify=verified, last_checkpoint_ts="2027-01-15T08:00:00.000000Z",
        audit_records=[{"action": "retention.run", "ts": "2027-01-15T08:00:00.000000Z", "outcome": "success"},
                       {"action": "config.change", "ts": "2027-01-15T07:00:00.000000Z", "outcome": "success"}],
        oldest_telemetry_ns=END_NS - 2 * DAY_NS, store_available=True,
        requests=[request(completed_ns=END_NS - 20 * DAY_NS)], breaches=[],
        incidents=[IncidentAck("inc-1", END_NS - 3 * DAY_NS, END_NS - 3 * DAY_NS + 900 * 10**9,
                               END_NS - 3 * DAY_NS + 60 * 10**9)],
    )  # fmt: skip
    return dataclasses.replace(base, **changes)


def request(*, completed_ns: int | None, received_ns: int = END_NS - 25 * DAY_NS) -> SubjectRequest:
    return SubjectRequest("req-1", "erasure", "ref-1", "completed" if completed_ns else "open", received_ns,
                          received_ns + 30 * DAY_NS, False, completed_ns, 0, {})  # fmt: skip


def tampered() -> VerifyResult:
    return VerifyResult(journal="journal.jsonl", records=5, checkpoints=1).fail(6, "record 6 does not match its hash")


FAILING: dict[str, Callable[[], Evidence]] = {
    "audit-chain-verifies": lambda: evidence(verify=tampered()),
    "audit-checkpoints-present": lambda: evidence(
        verify=VerifyResult(journal="journal.jsonl", records=12, last_seq=12, checkpoints=0)
    ),
    "audit-trail-enabled": lambda: evidence(config(audit_enabled=False)),
    "config-changes-audited": lambda: evidence(config(audit_enabled=False)),
    "exporters-use-tls": lambda: evidence(endpoints=otlp_endpoints({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://10.0.0.9"})),
    "redaction-enabled": lambda: evidence(config(redaction={"enabled": False})),
    "access-restricted": lambda: evidence(MonitoringConfig.model_validate({"compliance": {}})),  # key file beside
    "monitoring-on": lambda: evidence(
        MonitoringConfig.model_validate(
            {"anomaly": {"enabled": False}, "compliance": {"audit": {"checkpoint_key": KEY}}}
        )
    ),
    "incidents-acknowledged": lambda: evidence(
        incidents=[IncidentAck("inc-2", END_NS - DAY_NS, END_NS - DAY_NS + 900 * 10**9, None)]
    ),
    "retention-enforced": lambda: evidence(audit_records=[]),
    "audit-retention-floor": lambda: evidence(config(audit_log_retention="365d")),
    "erasure-on-time": lambda: evidence(requests=[request(completed_ns=None, received_ns=END_NS - 40 * DAY_NS)]),
}


@pytest.mark.parametrize("check", [c for c in CHECKS if c.id in FAILING], ids=lambda c: c.id)
def test_each_check_fails_on_its_evidence_with_a_remediation_and_passes_without(check: Any) -> None:
    passing = check.evaluate(evidence())
    assert passing.status == "pass", passing.summary
    failing = check.evaluate(FAILING[check.id]())
    assert failing.status == "fail", failing.summary
    assert failing.summary and failing.remediation


def test_telemetry_older_than_its_retention_fails_the_retention_check() -> None:
    [check] = [c for c in CHECKS if c.id == "retention-enforced"]
    result = check.evaluate(evidence(oldest_telemetry_ns=END_NS - 400 * DAY_NS))
    assert result.status == "fail" and "beyond its" in result.summary


def test_every_check_that_can_fail_is_exercised() -> None:
    can_fail = {c.id for c in CHECKS} - {"record-of-processing", "no-pii-in-telemetry", "breach-notification"}
    assert can_fail == set(FAILING)  # the other two fail in test_checks_pii.py and test_gdpr_breaches.py
