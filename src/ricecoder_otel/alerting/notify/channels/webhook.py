"""Generic webhook: the Alertmanager v4 body, signed with Standard Webhooks headers.

``webhook-id`` is the outbox message id (the same on every retry, so receivers can drop
duplicates), ``webhook-timestamp`` the send time, and ``webhook-signature`` is
``v1,<base64 HMAC-SHA256(key, "id.timestamp.body")>`` where the key is the base64 part of a
``whsec_`` secret (other secrets are used as UTF-8 bytes). GitHub's ``X-Hub-Signature-256`` is
added on request.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json

from ricecoder_otel.alerting.notify.channels.base import Channel, DeliveryResult
from ricecoder_otel.alerting.notify.notification import Notification


def signing_key(secret: str) -> bytes:
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret[len("whsec_") :], validate=True)
        except binascii.Error:
            pass
    return secret.encode()


def standard_signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(signing_key(secret), signed, hashlib.sha256).digest()).decode()


class WebhookChannel(Channel):
    type = "webhook"

    def send(self, notification: Notification, message_id: str) -> DeliveryResult:
        body = json.dumps(notification.to_v4(self.config.max_alerts), separators=(",", ":")).encode()
        timestamp = int(self.clock())
        headers = {"webhook-id": message_id, "webhook-timestamp": str(timestamp)}
        if self.config.signing_secret is not None:
            secret = self.config.signing_secret.get_secret_value()
            headers["webhook-signature"] = standard_signature(secret, message_id, timestamp, body)
            if self.config.github_signature:
                digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
                headers["X-Hub-Signature-256"] = f"sha256={digest}"
        return self.post(self.config.url.get_secret_value(), body, headers)
