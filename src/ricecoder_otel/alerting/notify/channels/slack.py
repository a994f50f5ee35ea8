"""Slack incoming webhook: blocks with fallback ``text`` and a coloured attachment.

Slack allows about one message per second per webhook and answers 429 with ``Retry-After``
beyond that; the outbox spaces sends by :attr:`min_interval` and honours the header. Section
text is cut below Slack's 3000-character limit (longer text is a 400).
"""

from __future__ import annotations

from typing import Any

from ricecoder_otel.alerting.notify.channels.base import Channel, DeliveryResult
from ricecoder_otel.alerting.notify.notification import Notification

_SECTION_LIMIT = 2900
_HEADER_LIMIT = 150
COLORS = {"firing": "#E01E5A", "resolved": "#2EB67D"}


def slack_body(notification: Notification) -> dict[str, Any]:
    title = notification.title()
    lines = []
    for alert in notification.alerts:
        summary = alert.annotations.get("summary") or alert.annotations.get("description") or ""
        labels = ", ".join(f"{k}={v}" for k, v in sorted(alert.labels.items()) if k != "alertname")
        lines.append(f"*{alert.name}* ({alert.status}) {summary}".rstrip() + (f"\n`{labels}`" if labels else ""))
    text = "\n".join(lines)
    if len(text) > _SECTION_LIMIT:
        text = text[: _SECTION_LIMIT - 1] + "…"
    icon = "🔥" if notification.status == "firing" else "✅"
    severity = notification.common_labels.get("severity", "")
    fields = [{"title": "severity", "value": severity, "short": True}] if severity else []
    return {
        "text": title,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": f"{icon} {title}"[:_HEADER_LIMIT]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": text or title}},
        ],
        "attachments": [{"color": COLORS[notification.status], "fallback": title, "fields": fields}],
    }


class SlackChannel(Channel):
    type = "slack"
    min_interval = 1.0

    def send(self, notification: Notification, message_id: str) -> DeliveryResult:
        return self.post(self.config.url.get_secret_value(), slack_body(notification))
