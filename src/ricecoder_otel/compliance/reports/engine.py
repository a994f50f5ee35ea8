"""``ComplianceEngine(config).generate_compliance_report("SOC2", start, end)``: checks rolled up per control.

A control is ``satisfied`` when every check mapped to it passes, ``not_satisfied`` when one
fails, ``not_evaluated`` when none fails but one could not be evaluated, and ``waived`` when it
would not be satisfied but an unexpired waiver covers it. The report is ``non_compliant`` when
any control is not satisfied, ``partial`` when any is not evaluated, else ``compliant``.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ricecoder_otel.compliance.checks.catalog import CONTROLS, CheckResult, Standard, checks_for
from ricecoder_otel.compliance.checks.evidence import Evidence, gather

if TYPE_CHECKING:
    from ricecoder_otel.config import MonitoringConfig
    from ricecoder_otel.store.base import Store

ControlStatus = Literal["satisfied", "not_satisfied", "not_evaluated", "waived"]
ReportStatus = Literal["compliant", "non_compliant", "partial"]
STANDARDS: tuple[Standard, ...] = ("SOC2", "GDPR", "HIPAA")


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Finding:
    check: str
    title: str
    result: CheckResult

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "title": self.title,
            "status": self.result.status,
            "summary": self.result.summary,
            "evidence": self.result.evidence,
            "remediation": self.result.remediation,
        }


@dataclass(frozen=True)
class WaiverState:
    control: str
    justification: str
    expires: str
    approved_by: str
    active: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "control": self.control,
            "justification": self.justification,
            "expires": self.expires,
            "approved_by": self.approved_by,
            "active": self.active,
        }


@dataclass(frozen=True)
class ControlResult:
    id: str
    title: str
    status: ControlStatus
    findings: tuple[Finding, ...]
    waiver: WaiverState | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "findings": [f.to_json() for f in self.findings],
            "waiver": self.waiver.to_json() if self.waiver else None,
        }


@dataclass(frozen=True)
class ComplianceReport:
    id: str
    standard: Standard
    status: ReportStatus
    generated: float
    start: float
    end: float
    service: str
    controls: tuple[ControlResult, ...]
    waivers: tuple[WaiverState, ...] = ()
    problems: dict[str, str] = field(default_factory=dict)

    def control(self, control_id: str) -> ControlResult:
        return next(c for c in self.controls if c.id == control_id)

    def summary(self) -> dict[str, int]:
        counts = dict.fromkeys(("satisfied", "not_satisfied", "not_evaluated", "waived"), 0)
        for control in self.controls:
            counts[control.status] += 1
        return counts

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "standard": self.standard,
            "status": self.status,
            "generated": iso(self.generated),
            "period": {"start": iso(self.start), "end": iso(self.end)},
            "service": self.service,
            "summary": self.summary(),
            "controls": [c.to_json() for c in self.controls],
            "waivers": [w.to_json() for w in self.waivers],
            "evidence_problems": dict(self.problems),
        }


def _epoch(value: datetime | float) -> float:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    return float(value)


def _control_status(findings: list[Finding]) -> ControlStatus:
    statuses = {f.result.status for f in findings}
    if "fail" in statuses:
        return "not_satisfied"
    if "not_evaluated" in statuses or not findings:
        return "not_evaluated"
    return "satisfied"


class ComplianceEngine:
    """Evaluates the checks of a standard over ``config`` and the evidence it can reach."""

    def __init__(
        self,
        config: MonitoringConfig,
        *,
        store: Store | None = None,
        env: Mapping[str, str] | None = None,
        journal_dir: Path | None = None,
        key: bytes | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.store = store
        self.env = env if env is not None else os.environ
        self.journal_dir = journal_dir
        self.key = key
        self.clock = clock

    def evidence(self, start: float, end: float) -> Evidence:
        return gather(
            self.config, start, end, env=self.env, store=self.store, journal_dir=self.journal_dir, key=self.key
        )

    def generate_compliance_report(
        self, standard: str, start: datetime | float, end: datetime | float
    ) -> ComplianceReport:
        if standard not in STANDARDS:
            raise ValueError(f"unknown standard {standard!r}; expected one of {', '.join(STANDARDS)}")
        std = standard
        begin, finish = _epoch(start), _epoch(end)
        if finish <= begin:
            raise ValueError("the report period ends before it starts")
        evidence = self.evidence(begin, finish)
        waivers = self._waivers(std, finish)
        controls = []
        for control_id, title in CONTROLS[std].items():
            findings = [Finding(c.id, c.title, c.evaluate(evidence)) for c in checks_for(std, control_id)]
            status = _control_status(findings)
            waiver = next((w for w in waivers if w.control == control_id), None)
            if status != "satisfied" and waiver is not None and waiver.active:
                status = "waived"
            controls.append(ControlResult(control_id, title, status, tuple(findings), waiver))
        statuses = {c.status for c in controls}
        report_status: ReportStatus = (
            "non_compliant"
            if "not_satisfied" in statuses
            else "partial"
            if "not_evaluated" in statuses
            else "compliant"
        )
        return ComplianceReport(
            id=str(uuid.uuid4()),
            standard=std,
            status=report_status,
            generated=self.clock(),
            start=begin,
            end=finish,
            service=self.config.service_name or self.env.get("OTEL_SERVICE_NAME", "") or "unknown_service",
            controls=tuple(controls),
            waivers=tuple(waivers),
            problems=dict(evidence.problems),
        )

    def _waivers(self, standard: Standard, at: float) -> list[WaiverState]:
        found = []
        for waiver in self.config.compliance.waivers:
            prefix, _, control = waiver.control.partition(":")
            if prefix.upper() != standard:
                continue
            found.append(
                WaiverState(
                    control=control,
                    justification=waiver.justification,
                    expires=iso(waiver.expires.timestamp()),
                    approved_by=waiver.approved_by,
                    active=waiver.expires.timestamp() > at,
                )
            )
        return found
