"""OpsGenie Alert API v2: create, acknowledge and close by alias. Legacy: Atlassian ends
OpsGenie (and its REST API) on 2027-04-05; prefer PagerDuty or a webhook for new setups.

The alias is Alertmanager's (sha256 of the group key). ``region: eu`` uses api.eu.opsgenie.com.
OpsGenie answers 202 and processes asynchronously; 429 and 5xx are retried, other 4xx are final.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from ricecoder_otel.alerting.notify.channels.base import Channel, DeliveryResult
from ricecoder_otel.alerting.notify.notification import Notification

API = {"us": "https://api.opsgenie.com", "eu": "https://api.eu.opsgenie.com"}
_MESSAGE_LIMIT = 130


def create_body(notification: Notification, priority: str | None, responders: list[dict[str, str]]) -> dict[str, Any]:
    labels = notification.common_labels
    description = "\n".join(
        f"{a.name}: {a.annotations.get('summary') or a.annotations.get('description') or ''}".rstrip(": ")
        for a in notification.alerts
    )
    return {
        "message": notification.title()[:_MESSAGE_LIMIT],
        "alias": notification.dedup_key,
        "description": description,
        "responders": responders,
        "tags": sorted({v for k, v in labels.items() if k in ("alertname", "severity", "service")}),
        "details": {k: v for k, v in sorted(labels.items())},
        "entity": labels.get("service", ""),
        "source": "ricecoder-otel",
        "priority": priority or ("P1" if labels.get("severity") == "critical" else "P3"),
    }


class OpsGenieChannel(Channel):
    type = "opsgenie"
    actions = frozenset({"notify", "acknowledge", "resolve"})

    @property
    def base_url(self) -> str:
        return (self.config.api_url or API[self.config.region]).rstrip("/")

    def send(self, notification: Notification, message_id: str) -> DeliveryResult:
        headers = {"Authorization": f"GenieKey {self.config.api_key.get_secret_value()}"}
        if notification.action == "notify" and notification.status == "firing":
            body = create_body(notification, self.config.priority, list(self.config.responders))
            return self.post(f"{self.base_url}/v2/alerts", body, headers)
        verb = "acknowledge" if notification.action == "acknowledge" else "close"
        alias = urllib.parse.quote(notification.dedup_key, safe="")
        note = notification.note or ("acknowledged" if verb == "acknowledge" else "resolved")
        body = {"user": "ricecoder", "source": "ricecoder-otel", "note": note}
        return self.post(f"{self.base_url}/v2/alerts/{alias}/{verb}?identifierType=alias", body, headers)
