"""Alertmanager: every alert pushed to ``POST /api/v2/alerts``, as Prometheus does.

Alertmanager groups, silences, routes and deduplicates (across our replicas too: identical
label sets are one alert). A firing alert carries ``endsAt`` = send time + 4 x
``resend_interval`` and is re-sent every ``resend_interval`` while it fires, so Alertmanager
resolves it by itself if this process dies; a resolved alert is sent with its real ``endsAt``.
"""

from __future__ import annotations

from typing import Any

from ricecoder_otel.alerting.notify.alert import Alert, iso
from ricecoder_otel.alerting.notify.channels.base import Channel, DeliveryResult
from ricecoder_otel.alerting.notify.notification import Notification


def api_alert(alert: Alert, now: float, resend: float) -> dict[str, Any]:
    ends = alert.ends_at if alert.ends_at is not None else now + 4 * resend
    body: dict[str, Any] = {
        "labels": dict(alert.labels),
        "annotations": dict(alert.annotations),
        "startsAt": iso(alert.starts_at),
        "endsAt": iso(ends),
    }
    if alert.generator_url:
        body["generatorURL"] = alert.generator_url
    return body


class AlertmanagerChannel(Channel):
    type = "alertmanager"
    actions = frozenset({"notify", "alerts"})

    @property
    def resend_interval(self) -> float:
        return float(self.config.resend_interval.total_seconds())

    def send(self, notification: Notification, message_id: str) -> DeliveryResult:
        now = self.clock()
        body = [api_alert(a, now, self.resend_interval) for a in notification.alerts]
        return self.post(f"{self.config.url.rstrip('/')}/api/v2/alerts", body)
