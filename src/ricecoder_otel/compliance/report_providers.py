"""The compliance capability's reports for other readers (dashboards): ``compliance.status``.

Registered with :mod:`ricecoder_otel.kernel.reports`. One row per control of the checks
catalogue (:data:`~.checks.catalog.CONTROLS`), with its status in the newest report of its
standard stored (``compliance report --save`` or the scheduled reports) at or before the window's
end; a control no stored report covers is ``no_report``. Evaluating the checks needs the
configuration, the audit journal and its key: that is the reports' job, not a dashboard's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ricecoder_otel.compliance.checks.catalog import CONTROLS
from ricecoder_otel.compliance.reports.store import ReportStore
from ricecoder_otel.kernel.reports import ReportColumn, ReportError, ReportTable, ReportWindow, register_report
from ricecoder_otel.store.base import Store

STATUS_COLUMNS = (
    ReportColumn("standard", description="SOC2, GDPR or HIPAA"),
    ReportColumn("control", description="clause id"),
    ReportColumn("title", description="what the clause requires"),
    ReportColumn("status", description="satisfied, not_satisfied, not_evaluated, waived or no_report"),
    ReportColumn("failing", description="checks that failed or could not be evaluated"),
    ReportColumn("report_status", description="the whole report: compliant, non_compliant or partial"),
    ReportColumn("generated", "time", description="when the report was generated"),
)
SCANNED = 50
"""Stored reports of a standard looked through for the newest one at or before the window's end."""
NO_REPORT = "no_report"


def _epoch(text: Any) -> float | None:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _newest(saved: ReportStore, standard: str, until_s: float) -> tuple[dict[str, Any], float] | None:
    for stored in saved.latest(standard, limit=SCANNED):
        generated = _epoch(stored.get("generated"))
        if generated is not None and generated <= until_s:
            return stored, generated
    return None


def status(store: Store, window: ReportWindow) -> ReportTable:
    """Each control's status in the newest stored report of its standard."""
    wanted = window.param("standard").upper()
    if wanted and wanted not in CONTROLS:
        raise ReportError(f"standard: expected one of {', '.join(CONTROLS)}, got {wanted[:40]!r}")
    try:
        saved = ReportStore(store)
    except TypeError as exc:
        raise ReportError(str(exc)) from None
    rows: list[tuple[Any, ...]] = []
    for standard, controls in CONTROLS.items():
        if wanted and standard != wanted:
            continue
        found = _newest(saved, standard, window.until_ns / 1e9)
        stored, generated = found if found is not None else ({}, None)
        results = {c.get("id"): c for c in stored.get("controls", [])}
        for control, title in controls.items():
            result = results.get(control)
            if result is None:
                rows.append((standard, control, title, NO_REPORT, "", stored.get("status", ""), generated))
                continue
            failing = ", ".join(f["check"] for f in result.get("findings", []) if f.get("status") != "pass")
            rows.append((standard, control, title, result.get("status", ""), failing, stored.get("status", ""),
                         generated))  # fmt: skip
    return ReportTable(STATUS_COLUMNS, rows)


register_report(
    "compliance.status",
    status,
    description="Each SOC2, GDPR and HIPAA control's status in the newest stored compliance report.",
    columns=STATUS_COLUMNS,
    params={"standard": "only this standard (SOC2, GDPR or HIPAA)"},
)
