"""Notification channels, one module each, built from their config by type."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ricecoder_otel.alerting.notify.channels.alertmanager import AlertmanagerChannel
from ricecoder_otel.alerting.notify.channels.base import Channel, DeliveryResult
from ricecoder_otel.alerting.notify.channels.console import ConsoleChannel
from ricecoder_otel.alerting.notify.channels.email import EmailChannel
from ricecoder_otel.alerting.notify.channels.file import FileChannel
from ricecoder_otel.alerting.notify.channels.opsgenie import OpsGenieChannel
from ricecoder_otel.alerting.notify.channels.pagerduty import PagerDutyChannel
from ricecoder_otel.alerting.notify.channels.slack import SlackChannel
from ricecoder_otel.alerting.notify.channels.webhook import WebhookChannel

CHANNEL_TYPES: dict[str, type[Channel]] = {
    c.type: c
    for c in (ConsoleChannel, FileChannel, EmailChannel, SlackChannel, WebhookChannel, PagerDutyChannel,
              OpsGenieChannel, AlertmanagerChannel)
}  # fmt: skip


def build_channel(config: Any, clock: Callable[[], float] = time.time) -> Channel:
    """The channel for one ``alerting.channels`` entry."""
    return CHANNEL_TYPES[config.type](config, clock)


__all__ = ["CHANNEL_TYPES", "Channel", "DeliveryResult", "build_channel"]
