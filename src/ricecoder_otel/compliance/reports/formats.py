"""A compliance report as JSON, Markdown, a self-contained HTML page, or OSCAL assessment results.

Every value in the HTML page is escaped (control names, evidence, waiver justifications come
from configuration and stored data, so any of them may be hostile); the page loads nothing,
runs no script, and its Content-Security-Policy forbids both. The OSCAL document follows the
assessment-results model: ``results`` with ``observations`` (the evidence) and ``findings``
(one per control, ``satisfied`` or ``not-satisfied``: OSCAL has no "partial"), with UUIDs
derived from the report id so the same report always gives the same document.
"""

from __future__ import annotations

import html
import json
import uuid
from typing import Any

from ricecoder_otel import __version__
from ricecoder_otel.compliance.reports.engine import ComplianceReport, iso

FORMATS = ("json", "markdown", "html", "oscal")
OSCAL_VERSION = "1.1.2"
_NAMESPACE = uuid.UUID("5f0c4f53-8a3e-4d1e-9c55-0c1e3f3b7a10")


def render(report: ComplianceReport, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report.to_json(), indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"
    if fmt == "markdown":
        return to_markdown(report)
    if fmt == "html":
        return to_html(report)
    if fmt == "oscal":
        return json.dumps(to_oscal(report), indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


# -- Markdown ------------------------------------------------------------------------------------


def _md(text: object) -> str:
    """Table-cell safe: pipes and line breaks would break the table; HTML in a cell stays text."""
    return html.escape(str(text), quote=False).replace("|", "\\|").replace("\n", " ").replace("\r", " ")


def to_markdown(report: ComplianceReport) -> str:
    data = report.to_json()
    lines = [
        f"# {report.standard} compliance report: {report.status}",
        "",
        f"Service `{_md(report.service)}`, period {data['period']['start']} to {data['period']['end']}, "
        f"generated {data['generated']} (report {report.id}).",
        "",
        "| control | title | status |",
        "|---|---|---|",
    ]
    lines += [f"| {_md(c.id)} | {_md(c.title)} | {c.status} |" for c in report.controls]
    for control in report.controls:
        lines += ["", f"## {_md(control.id)}: {_md(control.title)} ({control.status})", ""]
        if control.waiver is not None:
            w = control.waiver
            state = "active" if w.active else "expired"
            lines.append(f"Waiver ({state}, expires {w.expires}): {_md(w.justification)}")
            lines.append("")
        for finding in control.findings:
            r = finding.result
            lines.append(f"- **{_md(finding.title)}** ({finding.check}): {r.status}. {_md(r.summary)}")
            if r.remediation and r.status != "pass":
                lines.append(f"  - Remediation: {_md(r.remediation)}")
            if r.evidence:
                evidence = json.dumps(r.evidence, sort_keys=True, ensure_ascii=False, default=str)
                lines.append(f"  - Evidence: `{_md(evidence).replace('`', '')}`")
    if report.problems:
        lines += ["", "## Evidence that could not be read", ""]
        lines += [f"- {_md(k)}: {_md(v)}" for k, v in sorted(report.problems.items())]
    return "\n".join(lines) + "\n"


# -- HTML ----------------------------------------------------------------------------------------

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#1d2330;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #dde;padding:.35rem .5rem;
text-align:left;vertical-align:top;overflow-wrap:anywhere}
.s{font-weight:600;border-radius:4px;padding:.1rem .45rem;white-space:nowrap}
.satisfied,.pass,.compliant{background:#dff5e3;color:#145a26}
.not_satisfied,.fail,.non_compliant{background:#fde2e1;color:#8a1c15}
.not_evaluated,.partial,.waived{background:#fff1cf;color:#6b4e00}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f5f6f9;padding:.5rem;margin:.25rem 0}
"""
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; script-src 'none'; form-action 'none'"


def _h(value: object) -> str:
    return html.escape(str(value), quote=True)


def _badge(status: str) -> str:
    return f'<span class="s {_h(status)}">{_h(status)}</span>'


def to_html(report: ComplianceReport) -> str:
    data = report.to_json()
    rows = "".join(
        f'<tr><td><a href="#{_h(c.id)}">{_h(c.id)}</a></td><td>{_h(c.title)}</td><td>{_badge(c.status)}</td></tr>'
        for c in report.controls
    )
    sections = []
    for control in report.controls:
        parts = [f'<h2 id="{_h(control.id)}">{_h(control.id)}: {_h(control.title)} {_badge(control.status)}</h2>']
        if control.waiver is not None:
            w = control.waiver
            parts.append(
                f"<p>Waiver ({'active' if w.active else 'expired'}, expires {_h(w.expires)}, approved by "
                f"{_h(w.approved_by or '-')}): {_h(w.justification)}</p>"
            )
        items = []
        for finding in control.findings:
            r = finding.result
            evidence = json.dumps(r.evidence, indent=1, sort_keys=True, ensure_ascii=False, default=str)
            remediation = (
                f"<p><b>Remediation:</b> {_h(r.remediation)}</p>" if r.remediation and r.status != "pass" else ""
            )
            items.append(
                f"<li><b>{_h(finding.title)}</b> <code>{_h(finding.check)}</code> {_badge(r.status)}"
                f"<p>{_h(r.summary)}</p>{remediation}<pre>{_h(evidence)}</pre></li>"
            )
        parts.append(f"<ul>{''.join(items)}</ul>")
        sections.append("".join(parts))
    problems = "".join(f"<li>{_h(k)}: {_h(v)}</li>" for k, v in sorted(report.problems.items()))
    problems_html = f"<h2>Evidence that could not be read</h2><ul>{problems}</ul>" if problems else ""
    title = f"{report.standard} compliance report: {report.status}"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_h(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{_h(report.standard)} compliance report {_badge(report.status)}</h1>"
        f"<p>Service <b>{_h(report.service)}</b>, period {_h(data['period']['start'])} to "
        f"{_h(data['period']['end'])}, generated {_h(data['generated'])}. Report <code>{_h(report.id)}</code>.</p>"
        f"<table><thead><tr><th>control</th><th>title</th><th>status</th></tr></thead><tbody>{rows}</tbody></table>"
        f"{''.join(sections)}{problems_html}</body></html>\n"
    )


# -- OSCAL assessment results --------------------------------------------------------------------


def _uuid(report: ComplianceReport, *parts: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "/".join((report.id, *parts))))


def _control_id(standard: str, control: str) -> str:
    """OSCAL control ids are tokens: lower case, clause punctuation as dashes."""
    token = "".join(ch if ch.isalnum() else "-" for ch in control.lower()).strip("-")
    while "--" in token:
        token = token.replace("--", "-")
    return f"{standard.lower()}-{token}"


def to_oscal(report: ComplianceReport) -> dict[str, Any]:
    observations: list[dict[str, Any]] = []
    findings: list[dict[str, Any]] = []
    collected = iso(report.generated)
    for control in report.controls:
        related = []
        for finding in control.findings:
            obs_uuid = _uuid(report, control.id, finding.check)
            related.append({"observation-uuid": obs_uuid})
            observations.append(
                {
                    "uuid": obs_uuid,
                    "title": finding.title,
                    "description": finding.result.summary,
                    "methods": ["TEST"],
                    "types": ["finding" if finding.result.status == "fail" else "control-objective"],
                    "props": [
                        {"name": "check-id", "ns": "https://ricecoder-otel.dev/ns/oscal", "value": finding.check},
                        {"name": "result", "ns": "https://ricecoder-otel.dev/ns/oscal", "value": finding.result.status},
                    ],
                    "remarks": json.dumps(
                        {"evidence": finding.result.evidence, "remediation": finding.result.remediation},
                        sort_keys=True,
                        ensure_ascii=False,
                        default=str,
                    ),
                    "collected": collected,
                }
            )
        satisfied = control.status in ("satisfied", "waived")
        entry: dict[str, Any] = {
            "uuid": _uuid(report, control.id),
            "title": f"{control.id}: {control.title}",
            "description": f"{control.status}: " + "; ".join(f"{f.check} {f.result.status}" for f in control.findings),
            "target": {
                "type": "objective-id",
                "target-id": _control_id(report.standard, control.id),
                "status": {"state": "satisfied" if satisfied else "not-satisfied", "reason": control.status},
            },
            "related-observations": related,
        }
        if control.waiver is not None:
            entry["remarks"] = (
                f"waiver {'active' if control.waiver.active else 'expired'} until {control.waiver.expires}: "
                f"{control.waiver.justification}"
            )
        findings.append(entry)
    return {
        "assessment-results": {
            "uuid": _uuid(report, "assessment-results"),
            "metadata": {
                "title": f"{report.standard} compliance report for {report.service}",
                "last-modified": collected,
                "version": report.id,
                "oscal-version": OSCAL_VERSION,
                "props": [{"name": "generator", "ns": "https://ricecoder-otel.dev/ns/oscal", "value": __version__}],
            },
            "import-ap": {"href": f"#ricecoder-otel-{report.standard.lower()}-assessment-plan"},
            "results": [
                {
                    "uuid": _uuid(report, "result"),
                    "title": f"{report.standard} automated assessment: {report.status}",
                    "description": f"Checks as code evaluated over the live configuration and the stored evidence; "
                    f"overall status {report.status}.",
                    "start": iso(report.start),
                    "end": iso(report.end),
                    "reviewed-controls": {
                        "control-selections": [
                            {
                                "include-controls": [
                                    {"control-id": _control_id(report.standard, c.id)} for c in report.controls
                                ]
                            }
                        ]
                    },
                    "observations": observations,
                    "findings": findings,
                }
            ],
        }
    }
