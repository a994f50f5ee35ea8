"""Console channel: one line per notification on stderr (or stdout)."""

from __future__ import annotations

import sys

from ricecoder_otel.alerting.notify.channels.base import Channel, DeliveryResult
from ricecoder_otel.alerting.notify.notification import Notification


class ConsoleChannel(Channel):
    type = "console"

    def send(self, notification: Notification, message_id: str) -> DeliveryResult:
        stream = sys.stdout if self.config.stream == "stdout" else sys.stderr
        names = ", ".join(sorted({a.name for a in notification.alerts}))
        print(f"[ricecoder-otel] {notification.title()} ({names}) group={notification.group_key}", file=stream,
              flush=True)  # fmt: skip
        return DeliveryResult(True, None, "printed")
