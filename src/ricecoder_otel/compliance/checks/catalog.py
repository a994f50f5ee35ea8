"""Checks as code, each mapped to the clauses it gives evidence for.

A check is a pure function of the :class:`~.evidence.Evidence`: it passes, fails (with a
remediation) or cannot be evaluated (the evidence it needs is missing). The clause texts are the
regulations' checkable requirements (docs/compliance-reports.md lists them with their sources).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from ricecoder_otel.compliance.checks.evidence import Evidence
from ricecoder_otel.compliance.retention.classes import HIPAA_AUDIT_FLOOR

CheckStatus = Literal["pass", "fail", "not_evaluated"]
Standard = Literal["SOC2", "GDPR", "HIPAA"]


@dataclass(frozen=True)
class CheckResult:
    status: CheckStatus
    summary: str
    evidence: dict[str, Any] = field(default_factory=dict)
    remediation: str = ""


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    clauses: dict[Standard, tuple[str, ...]]
    evaluate: Callable[[Evidence], CheckResult]


CONTROLS: dict[Standard, dict[str, str]] = {
    "SOC2": {
        "CC6.1": "Logical access to information assets is restricted",
        "CC6.7": "Transmission of information is restricted and protected",
        "CC7.2": "System components are monitored for anomalies; detection works and activity is logged",
        "CC7.3": "Security events are evaluated and responded to",
    },
    "HIPAA": {
        "164.312(b)": "Audit controls: activity is recorded and examined",
        "164.312(c)": "Integrity: mechanisms show records are not altered",
        "164.312(e)": "Transmission security: data is encrypted in transit",
        "164.316(b)(2)": "Documentation is retained for six years",
    },
    "GDPR": {
        "Art.5(1)(e)": "Storage limitation: personal data is kept no longer than necessary",
        "Art.12(3)": "Requests are answered within one month (three when extended)",
        "Art.17": "Erasure without undue delay",
        "Art.30": "A record of processing activities with time limits for erasure and security measures",
        "Art.32": "Security of processing: pseudonymisation, encryption, integrity, regular testing",
        "Art.33": "Personal data breaches are notified within 72 hours and documented",
    },
}


def _ok(summary: str, **evidence: Any) -> CheckResult:
    return CheckResult("pass", summary, evidence)


def _fail(summary: str, remediation: str, **evidence: Any) -> CheckResult:
    return CheckResult("fail", summary, evidence, remediation)


def _unknown(summary: str, remediation: str, **evidence: Any) -> CheckResult:
    return CheckResult("not_evaluated", summary, evidence, remediation)


def audit_chain_verifies(e: Evidence) -> CheckResult:
    if e.verify is None:
        return _unknown(
            "the audit journal could not be verified",
            "keep compliance.audit_enabled on and the journal and its key readable by the reporter",
            problem=e.problems.get("audit", ""),
        )
    data = {"journal": e.verify.journal, "records": e.verify.records, "checkpoints": e.verify.checkpoints}
    if not e.verify.ok:
        return _fail(
            f"the audit chain does not verify at sequence number {e.verify.first_bad_seq}",
            "investigate the alteration (ricecoder-otel audit verify), restore the journal from the "
            "collector's archive and rotate the checkpoint key",
            first_bad_seq=e.verify.first_bad_seq,
            problem=e.verify.problem,
            **data,
        )
    data["signatures"] = list(e.verify.signatures)
    return _ok(
        f"{e.verify.records} audit records verify: chain, checkpoints and signed head "
        f"({' and '.join(e.verify.signatures)} signatures)",
        **data,
    )


def audit_checkpoints_present(e: Evidence) -> CheckResult:
    if e.verify is None:
        return _unknown("no audit journal to look for checkpoints in", "keep the audit trail on")
    if e.verify.records and not e.verify.checkpoints:
        return _fail(
            f"{e.verify.records} audit records and no signed checkpoint",
            "let the audit capability run (it signs every compliance.audit.checkpoint_interval)",
            records=e.verify.records,
        )
    interval = e.config.compliance.audit.checkpoint_interval
    return _ok(
        f"{e.verify.checkpoints} signed checkpoints, {e.verify.unsigned} records after the last",
        checkpoints=e.verify.checkpoints,
        unsigned=e.verify.unsigned,
        last_checkpoint=e.last_checkpoint_ts,
        checkpoint_interval_s=interval.total_seconds(),
    )


def audit_trail_enabled(e: Evidence) -> CheckResult:
    compliance = e.config.compliance
    if not (compliance.enabled and compliance.audit_enabled):
        return _fail(
            "the audit trail is switched off",
            "set compliance.enabled and compliance.audit_enabled to true",
            audit_enabled=compliance.audit_enabled,
        )
    count = len(e.audit_records or [])
    return _ok(f"the audit trail is on; {count} records in the period", records_in_period=count)


def config_changes_audited(e: Evidence) -> CheckResult:
    if not (e.config.compliance.enabled and e.config.compliance.audit_enabled):
        return _fail(
            "configuration changes are not audited: the audit trail is off",
            "set compliance.audit_enabled to true (every accepted or rejected change is then recorded)",
        )
    changes = e.records("config.change")
    return _ok(
        f"configuration changes are recorded by the audit trail; {len(changes)} in the period",
        config_changes=len(changes),
        rejected=sum(1 for r in changes if r.get("outcome") != "success"),
    )


def exporters_use_tls(e: Evidence) -> CheckResult:
    bad = [p for p in e.endpoints if not p.acceptable]
    data = {"endpoints": [p.to_json() for p in e.endpoints]}
    if bad:
        return _fail(
            "unencrypted export to a remote host: " + ", ".join(f"{p.variable}={p.describe()}" for p in bad),
            "use https:// endpoints (and no OTEL_EXPORTER_OTLP_*INSECURE=true) for every non-loopback collector",
            **data,
        )
    if not e.endpoints:
        return _ok("no OTLP endpoint configured: telemetry stays on this host", **data)
    return _ok("every OTLP endpoint is encrypted or on loopback", **data)


def redaction_enabled(e: Evidence) -> CheckResult:
    redaction = e.config.compliance.redaction
    if not (e.config.compliance.enabled and redaction.enabled):
        return _fail(
            "redaction before export is off",
            "set compliance.redaction.enabled to true",
            redaction_enabled=redaction.enabled,
        )
    return _ok(f"redaction on with {len(redaction.builtin)} built-in detectors", detectors=list(redaction.builtin))


def no_pii_in_telemetry(e: Evidence) -> CheckResult:
    if e.pii is None:
        return _unknown(
            "stored telemetry could not be scanned for personal data",
            "give the reporter the store the exporters write to",
            problem=e.problems.get("pii", e.problems.get("store", "")),
        )
    data = e.pii.to_json()
    read = sum(e.pii.scanned.values())
    if e.pii.findings:
        found = ", ".join(f"{name}={count}" for name, count in sorted(e.pii.detectors.items()))
        return _fail(
            f"{e.pii.findings} values in {sum(e.pii.records_with_findings.values())} of {read} sampled records "
            f"match the redaction detectors ({found})",
            "turn compliance.redaction on (or add the detector and an action for it), then purge what leaked "
            "(ricecoder-otel retention run, or gdpr erase for one subject)",
            **data,
        )
    return _ok(f"no detector matched in {read} sampled records (spans, logs, metric points) of the period", **data)


def access_restricted(e: Evidence) -> CheckResult:
    dashboards = e.config.dashboards
    problems = []
    if dashboards.port and dashboards.host not in ("127.0.0.1", "::1", "localhost") and dashboards.token is None:
        problems.append(f"the dashboard server listens on {dashboards.host} without a token")
    if e.config.compliance.audit.checkpoint_key is None:
        problems.append("the audit checkpoint key is kept beside the journal (anyone who can write it can re-sign)")
    if problems:
        return _fail(
            "; ".join(problems),
            "set dashboards.token for non-loopback hosts and hold compliance.audit.checkpoint_key in a secret store "
            "(RICECODER_COMPLIANCE__AUDIT__CHECKPOINT_KEY)",
            problems=problems,
        )
    return _ok("dashboards are loopback-only or need a token; the checkpoint key is held outside the journal")


def monitoring_on(e: Evidence) -> CheckResult:
    on = {name: bool(getattr(e.config, name).enabled) for name in ("anomaly", "alerting")}
    if not e.config.enabled or not all(on.values()):
        return _fail(
            "anomaly detection or alerting is off: " + ", ".join(k for k, v in on.items() if not v),
            "switch anomaly.enabled and alerting.enabled on",
            **on,
        )
    return _ok("anomaly detection and alerting are on", **on)


def incidents_acknowledged(e: Evidence) -> CheckResult:
    if e.incidents is None:
        return _unknown(
            "incident acknowledgements could not be read",
            "keep incidents in the store the reporter reads",
            problem=e.problems.get("incidents", e.problems.get("store", "")),
        )
    end_ns = int(e.end * 1e9)
    late = [
        i.id
        for i in e.incidents
        if (i.acknowledged_ns is not None and i.acknowledged_ns > i.deadline_ns)
        or (i.acknowledged_ns is None and i.deadline_ns < end_ns)
    ]
    if late:
        return _fail(
            f"{len(late)} of {len(e.incidents)} incidents were not acknowledged within their SLA",
            "acknowledge incidents within alerting.incidents' acknowledgement timeout; review escalation",
            late=late[:50],
            incidents=len(e.incidents),
        )
    return _ok(
        f"{len(e.incidents)} incidents in the period, all acknowledged within their SLA", incidents=len(e.incidents)
    )


def retention_enforced(e: Evidence) -> CheckResult:
    if e.audit_records is None:
        return _unknown("no audit records to show retention runs", "keep the audit trail on")
    runs = e.records("retention.run")
    interval = e.config.compliance.data_retention.interval
    data: dict[str, Any] = {
        "retention_days": {k: round(v.total_seconds() / 86_400, 3) for k, v in e.retention.items()},
        "retention_runs": len(runs),
    }
    if not runs:
        return _fail(
            "no retention run recorded in the period",
            "run the application with compliance enabled (the worker runs every compliance.data_retention.interval) "
            "or schedule `ricecoder-otel retention run`",
            **data,
        )
    last = max(str(r["ts"]) for r in runs)
    data["last_run"] = last
    if e.oldest_telemetry_ns is not None:
        limit = e.retention["telemetry"] + interval + timedelta(hours=1)
        age = timedelta(seconds=e.end - e.oldest_telemetry_ns / 1e9)
        data["oldest_telemetry_age_days"] = round(age.total_seconds() / 86_400, 3)
        if age > limit:
            return _fail(
                f"telemetry {age.days} days old is stored beyond its {e.retention['telemetry'].days}-day retention",
                "check the retention worker's errors (ricecoder.self.errors) and run `ricecoder-otel retention run`",
                **data,
            )
    return _ok(f"{len(runs)} retention runs in the period, the last at {last}", **data)


def audit_retention_floor(e: Evidence) -> CheckResult:
    configured = e.config.compliance.audit_log_retention
    effective = e.retention["audit"]
    data = {
        "configured_days": configured.days,
        "effective_days": effective.days,
        "floor_days": HIPAA_AUDIT_FLOOR.days,
        "journal_truncated_by_retention": False,
    }
    if effective < HIPAA_AUDIT_FLOOR:
        return _fail(
            f"audit records are kept {effective.days} days, under six years",
            "set compliance.audit_log_retention to at least 2190d (or add HIPAA to compliance.standards)",
            **data,
        )
    note = " (raised from the configured value by the HIPAA profile)" if configured < effective else ""
    return _ok(f"audit records are kept {effective.days} days{note}; the journal is never cut", **data)


def erasure_on_time(e: Evidence) -> CheckResult:
    if e.requests is None:
        return _unknown(
            "subject requests could not be read",
            "apply the store's migrations (ricecoder-otel keeps requests in gdpr_requests)",
            problem=e.problems.get("requests", e.problems.get("store", "")),
        )
    end_ns = int(e.end * 1e9)
    late = [r for r in e.requests if not r.on_time(end_ns)]
    data = {
        "requests": len(e.requests),
        "open": sum(1 for r in e.requests if r.state != "completed"),
        "late": [r.id for r in late][:50],
    }
    if late:
        return _fail(
            f"{len(late)} subject requests missed their deadline",
            "complete them now (ricecoder-otel gdpr erase/export) and record an extension within the first month "
            "when more time is needed",
            **data,
        )
    return _ok(f"{len(e.requests)} subject requests, none past its deadline", **data)


def record_of_processing(e: Evidence) -> CheckResult:
    data = {"retention_days": {k: round(v.total_seconds() / 86_400, 3) for k, v in e.retention.items()}}
    return _ok(
        "the record of processing is generated from the live configuration: every data class has a time limit "
        "for erasure and the security measures are listed (ricecoder-otel gdpr ropa)",
        **data,
    )


def breach_notification(e: Evidence) -> CheckResult:
    if e.breaches is None:
        return _unknown(
            "the breach register could not be read",
            "apply the store's migrations (the register is gdpr_breaches, migration 0008)",
            problem=e.problems.get("breaches", e.problems.get("store", "")),
        )
    end_ns = int(e.end * 1e9)
    late = [b.id for b in e.breaches if not b.on_time(end_ns)]
    incomplete = {b.id: b.missing() for b in e.breaches if b.missing()}
    data = {"breaches": [b.to_json(end_ns) for b in e.breaches][:50], "late": late, "incomplete": incomplete}
    if late or incomplete:
        return _fail(
            f"{len(late)} breaches not notified within 72 hours without reasons, {len(incomplete)} incompletely "
            "documented",
            "notify the supervisory authority now with the reasons for the delay "
            "(ricecoder-otel gdpr breach notify ID --reason ...) and complete the Art. 33(3) description",
            **data,
        )
    if not e.breaches:
        return _ok("no personal data breach recorded in the period; the register is kept (ricecoder-otel gdpr breach)",
                   **data)  # fmt: skip
    return _ok(
        f"{len(e.breaches)} breaches in the period, each notified within 72 hours (or with reasons) and documented",
        **data,
    )


CHECKS: tuple[Check, ...] = (
    Check("audit-chain-verifies", "Audit chain verifies", {"SOC2": ("CC7.2",), "HIPAA": ("164.312(b)", "164.312(c)"),
          "GDPR": ("Art.32",)}, audit_chain_verifies),
    Check("audit-checkpoints-present", "Signed audit checkpoints present", {"SOC2": ("CC7.2",),
          "HIPAA": ("164.312(c)",)}, audit_checkpoints_present),
    Check("audit-trail-enabled", "Audit trail records activity", {"SOC2": ("CC7.2",), "HIPAA": ("164.312(b)",)},
          audit_trail_enabled),
    Check("config-changes-audited", "Configuration changes are audited", {"SOC2": ("CC7.2",),
          "HIPAA": ("164.312(b)",)}, config_changes_audited),
    Check("exporters-use-tls", "Exporters use TLS to remote hosts", {"SOC2": ("CC6.7",), "HIPAA": ("164.312(e)",),
          "GDPR": ("Art.32",)}, exporters_use_tls),
    Check("redaction-enabled", "Sensitive values are redacted before export", {"SOC2": ("CC6.7",),
          "GDPR": ("Art.32",)}, redaction_enabled),
    Check("no-pii-in-telemetry", "No personal data detected in exported telemetry", {"SOC2": ("CC6.7",),
          "GDPR": ("Art.32",)}, no_pii_in_telemetry),
    Check("access-restricted", "Access to dashboards and audit keys is restricted", {"SOC2": ("CC6.1",)},
          access_restricted),
    Check("monitoring-on", "Anomaly detection and alerting are on", {"SOC2": ("CC7.2",)}, monitoring_on),
    Check("incidents-acknowledged", "Incidents acknowledged within their SLA", {"SOC2": ("CC7.3",)},
          incidents_acknowledged),
    Check("retention-enforced", "Retention is enforced", {"GDPR": ("Art.5(1)(e)",)}, retention_enforced),
    Check("audit-retention-floor", "Audit records kept six years", {"HIPAA": ("164.316(b)(2)",)},
          audit_retention_floor),
    Check("erasure-on-time", "Subject requests answered on time", {"GDPR": ("Art.12(3)", "Art.17")}, erasure_on_time),
    Check("record-of-processing", "Record of processing activities", {"GDPR": ("Art.30",)}, record_of_processing),
    Check("breach-notification", "Breach notification within 72 hours", {"GDPR": ("Art.33",)}, breach_notification),
)  # fmt: skip


def checks_for(standard: Standard, control: str) -> list[Check]:
    return [c for c in CHECKS if control in c.clauses.get(standard, ())]
