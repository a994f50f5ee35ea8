"""The notification operations as a Python API (the CLI is a thin layer over these).

Each takes the store (where the running service keeps its outbox, alerts and silences), so a
silence added here is honoured by every process sharing that store within a second.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace

from ricecoder_otel.alerting.notify.alert import Alert
from ricecoder_otel.alerting.notify.channels import DeliveryResult, build_channel
from ricecoder_otel.alerting.notify.notification import Notification
from ricecoder_otel.alerting.notify.silences import Silence, SilenceError, new_silence
from ricecoder_otel.alerting.notify.tables import NotifyTables, OutboxRow, new_message_id
from ricecoder_otel.config.model import AlertingConfig
from ricecoder_otel.kernel.events import EventHub, SilenceChanged
from ricecoder_otel.store.sql import SqlStore


def active_alerts(store: SqlStore) -> list[Alert]:
    """Alerts the service holds: firing ones, and resolved ones not yet notified."""
    return NotifyTables(store).alerts()


def dead_letters(store: SqlStore, limit: int = 100) -> list[OutboxRow]:
    return NotifyTables(store).rows(("dead",), limit)


def add_silence(store: SqlStore, matchers: Sequence[str], *, ends_at: float, created_by: str, comment: str,
                starts_at: float | None = None, now: float | None = None,
                hub: EventHub | None = None) -> Silence:  # fmt: skip
    """Validate and store a silence (``SilenceError`` says which field is wrong) and announce it
    (:class:`SilenceChanged`, which the audit trail records) on ``hub`` or the running pipeline's."""
    current = time.time() if now is None else now
    silence = new_silence(matchers, current if starts_at is None else starts_at, ends_at, created_by, comment, current)
    NotifyTables(store).save_silence(silence)
    _announce(hub, silence, "added", current)
    return silence


def silence_event(silence: Silence, change: str, now: float) -> SilenceChanged:
    """The hub event of a silence ``added`` or ``expired``."""
    matchers = tuple(str(m) for m in silence.matchers)
    return SilenceChanged(at=now, silence_id=silence.id, change=change, matchers=matchers,
                          created_by=silence.created_by, comment=silence.comment, starts_at=silence.starts_at,
                          ends_at=silence.ends_at)  # fmt: skip


def _announce(hub: EventHub | None, silence: Silence, change: str, now: float) -> None:
    """Publish on ``hub``, else on the hub of the pipeline running in this process (so a silence set
    through the Python API is audited without the caller passing the hub); with neither, nobody listens."""
    if hub is None:
        from ricecoder_otel.pipeline import active_pipeline  # late: the pipeline imports the capabilities

        pipeline = active_pipeline()
        hub = pipeline.hub if pipeline is not None else None
    if hub is not None:
        hub.publish(silence_event(silence, change, now))


def list_silences(store: SqlStore) -> list[Silence]:
    return NotifyTables(store).silences()


def expire_silence(store: SqlStore, silence_id: str, now: float | None = None, hub: EventHub | None = None) -> Silence:
    """End a silence now and announce it (:class:`SilenceChanged`) on ``hub`` or the running pipeline's."""
    current = time.time() if now is None else now
    tables = NotifyTables(store)
    found = [s for s in tables.silences() if s.id == silence_id]
    if not found:
        raise SilenceError(f"no silence {silence_id}")
    if found[0].state(current) == "expired":
        raise SilenceError(f"silence {silence_id} has already expired")
    expired = found[0].expired(current)
    tables.save_silence(expired)
    _announce(hub, expired, "expired", current)
    return expired


def test_notification(now: float | None = None) -> Notification:
    current = time.time() if now is None else now
    alert = Alert({"alertname": "RicecoderTestNotification", "severity": "info"},
                  {"summary": "test notification from ricecoder-otel alerts test"}, starts_at=current)  # fmt: skip
    name = "RicecoderTestNotification"
    return Notification(receiver="test", group_key=f'{{}}:{{alertname="{name}"}}', group_labels={"alertname": name},
                        alerts=(alert,), sent_at=current)  # fmt: skip


def send_test(config: AlertingConfig, channel_name: str) -> DeliveryResult:
    """Send one test notification straight to a channel (no outbox) and return what the receiver answered."""
    found = [c for c in config.channels if c.name == channel_name]
    if not found:
        names = ", ".join(c.name for c in config.channels) or "none"
        raise KeyError(f"unknown channel {channel_name!r}; configured: {names}")
    channel = build_channel(found[0])
    notification = test_notification()
    if channel.type == "alertmanager":
        notification = replace(notification, action="alerts")
    return channel.send(notification, new_message_id())
