"""File channel: each notification appended as one JSON line (the Alertmanager v4 body plus an id)."""

from __future__ import annotations

import json
import os

from ricecoder_otel.alerting.notify.channels.base import Channel, DeliveryResult
from ricecoder_otel.alerting.notify.notification import Notification


class FileChannel(Channel):
    type = "file"

    def send(self, notification: Notification, message_id: str) -> DeliveryResult:
        record = {"id": message_id, **notification.to_v4()}
        line = json.dumps(record, separators=(",", ":"), sort_keys=True) + "\n"
        path = os.path.expanduser(self.config.path)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as handle:
                handle.write(line)
        except OSError as error:
            return DeliveryResult(False, None, f"cannot append to {path}: {error.strerror}")
        return DeliveryResult(True, None, f"appended to {path}")
