"""Postmortem export of one incident: summary, impact window, timeline, values, links, action items.

JSON for tools, Markdown for people; both from the same dictionary.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ricecoder_otel.alerting.incidents.model import Incident, TimelineEntry
from ricecoder_otel.config.duration import format_duration

_TRACE_KEYS = ("trace_id", "exemplar_trace_id", "trace")


def _iso(epoch: float | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


def _span(seconds: float | None) -> str:
    return "-" if seconds is None else format_duration(timedelta(seconds=round(seconds)))


def postmortem(incident: Incident, timeline: list[TimelineEntry]) -> dict[str, Any]:
    values = []
    links = []
    for alert in incident.alerts:
        labels, annotations = alert.get("labels", {}), alert.get("annotations", {})
        values.append({"alert": labels.get("alertname", ""), "labels": labels, "value": alert.get("value"),
                       "starts_at": _iso(alert.get("starts_at")), "ends_at": _iso(alert.get("ends_at"))})  # fmt: skip
        for key in _TRACE_KEYS:
            trace = annotations.get(key) or labels.get(key)
            if trace:
                links.append({"kind": "trace", "trace_id": trace,
                              "query": f"ricecoder-otel query spans --trace-id {trace}"})  # fmt: skip
        for key, value in annotations.items():
            if key.endswith("_url") and value:
                links.append({"kind": key, "url": value})
    end = incident.resolved_at
    actions = []
    if not any(k == "runbook_url" for a in incident.alerts for k in a.get("annotations", {})):
        actions.append("Add a runbook_url annotation to the rules involved.")
    if incident.acknowledged_at is None:
        actions.append("Nobody acknowledged this incident: check the escalation policy and on-call coverage.")
    if incident.level > 0:
        actions.append(f"Escalation reached level {incident.level}: review why earlier levels did not respond.")
    if any(e.action == "delivery dead" for e in timeline):
        actions.append("Some notifications were dead-lettered: check `ricecoder-otel alerts dead-letters`.")
    actions.append("Identify the root cause and add a regression test or guard.")
    return {
        "incident": incident.id,
        "summary": {
            "title": incident.title,
            "severity": incident.severity,
            "state": incident.state,
            "labels": incident.labels,
            "time_to_acknowledge": _span(incident.time_to_acknowledge),
            "time_to_resolve": _span(incident.time_to_resolve),
        },
        "impact_window": {
            "start": _iso(incident.triggered_at),
            "end": _iso(end),
            "duration": _span(None if end is None else end - incident.triggered_at),
        },
        "timeline": [{**e.to_json(), "at": _iso(e.at)} for e in timeline],
        "values": values,
        "links": links,
        "action_items": actions,
    }


def markdown(report: dict[str, Any]) -> str:
    s, w = report["summary"], report["impact_window"]
    lines = [f"# Postmortem: {s['title']}", "", f"Incident `{report['incident']}`, severity **{s['severity']}**, "
             f"{s['state']}.", "", "## Summary", "",
             f"- Time to acknowledge: {s['time_to_acknowledge']}", f"- Time to resolve: {s['time_to_resolve']}",
             "- Labels: " + ", ".join(f"`{k}={v}`" for k, v in sorted(s["labels"].items())), "",
             "## Impact window", "", f"{w['start']} to {w['end'] or 'ongoing'} ({w['duration']})", "",
             "## Timeline", "", "| time | actor | action | channel | detail |", "|---|---|---|---|---|"]  # fmt: skip
    for e in report["timeline"]:
        detail = ", ".join(f"{k}={v}" for k, v in sorted(e["detail"].items()))
        lines.append(f"| {e['at']} | {e['actor']} | {e['action']} | {e['channel']} | {detail} |")
    lines += ["", "## Values", ""]
    lines += [f"- {v['alert']}: value {v['value']} from {v['starts_at']} to {v['ends_at'] or 'now'}"
              for v in report["values"]]  # fmt: skip
    lines += ["", "## Links", ""]
    lines += [f"- {link.get('kind')}: {link.get('url') or link.get('query')}" for link in report["links"]] or ["- none"]
    lines += ["", "## Action items", ""] + [f"- [ ] {a}" for a in report["action_items"]]
    return "\n".join(lines) + "\n"
