"""Scheduled analytics reports as notifications, delivered only where a route asks for them.

A report (:class:`~ricecoder_otel.kernel.events.AnalyticsReportGenerated`) becomes a one-off
message whose alert has the labels ``alertname="AnalyticsReport"``, ``kind="analytics_report"``,
``schedule`` and ``report`` (the report kind), and whose ``summary`` annotation is the event's text
(which names the written file) with the file in ``path``. It is routed through the same tree as an
alert with those labels, but delivered only by a route that selects on ``kind`` (its own matchers
or an ancestor's): the root and catch-all routes, which page people about alerts, never get a
report unless asked. Reports are not grouped, deduplicated or repeated; silences that match mute them.
"""

from __future__ import annotations

from collections.abc import Mapping

from ricecoder_otel.alerting.notify.alert import Alert
from ricecoder_otel.alerting.notify.matchers import all_match
from ricecoder_otel.alerting.notify.notification import Notification
from ricecoder_otel.alerting.notify.router import Route
from ricecoder_otel.alerting.notify.tables import NewMessage
from ricecoder_otel.kernel.events import AnalyticsReportGenerated

REPORT_KIND = "analytics_report"
ALERTNAME = "AnalyticsReport"
OPT_IN_LABEL = "kind"


def report_alert(event: AnalyticsReportGenerated) -> Alert:
    """The routable message for a generated report (firing, with no end: it is a one-off)."""
    labels = {"alertname": ALERTNAME, "kind": REPORT_KIND, "schedule": event.schedule, "report": event.kind}
    annotations = {"summary": event.body()}
    if event.path:
        annotations["path"] = event.path
    return Alert(labels=labels, annotations=annotations, starts_at=event.at)


def report_routes(root: Route, labels: Mapping[str, str]) -> list[Route]:
    """The routes the tree picks for ``labels`` (as for an alert) that opted in to reports."""
    return _walk(root, labels, False) or []


def _walk(route: Route, labels: Mapping[str, str], opted_in: bool) -> list[Route] | None:
    """None when ``route`` does not apply; else its picks (possibly none: not opted in)."""
    if not all_match(route.matchers, labels):
        return None
    opted_in = opted_in or any(m.name == OPT_IN_LABEL for m in route.matchers)
    found: list[Route] = []
    matched = False
    for child in route.children:
        picked = _walk(child, labels, opted_in)
        if picked is None:
            continue
        matched = True
        found += picked
        if not child.continue_:
            break
    if matched:
        return found
    return [route] if opted_in else []


def report_messages(root: Route, alert: Alert, channels: Mapping[str, object], now: float) -> list[NewMessage]:
    """One outbox message per receiving channel of every opted-in route (each channel once)."""
    messages: list[NewMessage] = []
    seen: set[str] = set()
    for route in report_routes(root, alert.labels):
        notification = Notification(
            receiver=route.receiver_name, group_key=route.group_key(alert.labels),
            group_labels=route.group_labels(alert.labels), alerts=(alert,), note=alert.annotations.get("summary", ""),
            sent_at=now,
        )  # fmt: skip
        for channel in route.receivers:
            if channel in channels and channel not in seen:
                seen.add(channel)
                messages.append(NewMessage(channel, notification))
    return messages
