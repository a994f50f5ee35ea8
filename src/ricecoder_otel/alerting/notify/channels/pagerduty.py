"""PagerDuty Events API v2: ``trigger``, ``acknowledge`` and ``resolve`` by dedup key.

The dedup key is Alertmanager's (sha256 of the group key), so a group keeps one PagerDuty alert
and every replica addresses the same one. A 202 is success; 400 is final; 429 and 5xx retry.
"""

from __future__ import annotations

from typing import Any

from ricecoder_otel.alerting.notify.alert import iso
from ricecoder_otel.alerting.notify.channels.base import Channel, DeliveryResult
from ricecoder_otel.alerting.notify.notification import Notification

SEVERITIES = {"critical": "critical", "error": "error", "warning": "warning", "info": "info"}
_SUMMARY_LIMIT = 1024


def event_action(notification: Notification) -> str:
    if notification.action in ("acknowledge", "resolve"):
        return notification.action
    return "trigger" if notification.status == "firing" else "resolve"


def pagerduty_body(notification: Notification, routing_key: str, source: str,
                   client_url: str | None) -> dict[str, Any]:  # fmt: skip
    action = event_action(notification)
    body: dict[str, Any] = {"routing_key": routing_key, "event_action": action, "dedup_key": notification.dedup_key}
    if action != "trigger":
        return body
    labels = notification.common_labels
    first = min((a.starts_at for a in notification.alerts), default=notification.sent_at)
    body["payload"] = {
        "summary": notification.title()[:_SUMMARY_LIMIT],
        "source": source,
        "severity": SEVERITIES.get(labels.get("severity", ""), "error"),
        "timestamp": iso(first),
        "group": labels.get("service", notification.receiver),
        "class": labels.get("alertname", ""),
        "custom_details": {
            "firing": [a.to_v4() for a in notification.firing],
            "num_firing": len(notification.firing),
            "num_resolved": len(notification.resolved),
            "group_key": notification.group_key,
            **({"incident_id": notification.incident_id} if notification.incident_id else {}),
        },
    }
    body["client"] = "ricecoder-otel"
    if client_url:
        body["client_url"] = client_url
    return body


class PagerDutyChannel(Channel):
    type = "pagerduty"
    actions = frozenset({"notify", "acknowledge", "resolve"})

    def send(self, notification: Notification, message_id: str) -> DeliveryResult:
        key = self.config.routing_key.get_secret_value()
        return self.post(self.config.url, pagerduty_body(notification, key, self.config.source, self.config.client_url))
