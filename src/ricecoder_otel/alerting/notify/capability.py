"""Notifications and incidents as a capability: alert transitions in, channels and incidents out.

Subscribes to :class:`~ricecoder_otel.kernel.events.AlertTransition` (published by the rule
engine) and hands each alert to the :class:`NotificationService`, whose own threads group,
queue and deliver; incident changes are published as ``ricecoder.incident`` events. The store
is the one configured in ``store.location`` (else the process default), opened on the worker
thread, so nothing here touches disk on the hub's thread. With no channel configured nothing
runs. Config changes rebuild the service; the outbox, log and incidents stay in the store.
Switched off, the threads stop; queued messages wait in the outbox for the next start.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import TYPE_CHECKING

from ricecoder_otel.alerting.incidents.manager import IncidentManager
from ricecoder_otel.alerting.incidents.model import Incident
from ricecoder_otel.alerting.incidents.tables import IncidentTables
from ricecoder_otel.alerting.notify.alert import alert_from_transition
from ricecoder_otel.alerting.notify.service import NotificationService
from ricecoder_otel.alerting.notify.tables import NotifyTables
from ricecoder_otel.kernel.capability import Capability, Clock, InstallContext, PayloadFilter, filter_payload
from ricecoder_otel.kernel.events import AlertTransition, EventHub, IncidentChanged, Subscription
from ricecoder_otel.store.sql import SqlStore

if TYPE_CHECKING:
    from ricecoder_otel.config import MonitoringConfig


def open_sql_store(location: str | None) -> SqlStore:
    """The store at ``location`` (else the process default); notifications need a SQL store."""
    from ricecoder_otel.store import get_default_store, open_store

    store = open_store(location) if location else get_default_store()
    if not isinstance(store, SqlStore):  # pragma: no cover - every shipped backend is SQL
        raise TypeError(f"notifications need a SQL store, not {type(store).__name__}")
    return store


class NotificationCapability(Capability):
    name = "notifications"
    section = "alerting"

    def __init__(self) -> None:
        self.service: NotificationService | None = None
        self._config: MonitoringConfig | None = None
        self._hub: EventHub | None = None
        self._clock: Clock | None = None
        self._store: SqlStore | None = None
        self._subscription: Subscription[AlertTransition] | None = None
        self._lock = threading.Lock()
        self._filters: list[PayloadFilter] = []

    def install(self, context: InstallContext) -> None:
        self._config = context.config
        self._hub = context.hub
        self._clock = context.clock
        self._filters = context.payload_filters

    def start(self) -> None:
        if self._config is None or self._hub is None or not self._config.alerting.channels:
            return
        with self._lock:
            if self.service is None:
                self.service = self._build(self._config)
            self.service.start()
        if self._subscription is None:
            self._subscription = self._hub.subscribe(AlertTransition, self._on_transition, name="alerting.notify")

    def stop(self) -> None:
        if self._subscription is not None:
            self._subscription.cancel()
            self._subscription = None
        with self._lock:
            if self.service is not None:
                self.service.stop()

    def apply(self, old: MonitoringConfig, new: MonitoringConfig) -> None:
        if old.alerting == new.alerting and old.store == new.store:
            return
        self.stop()
        with self._lock:
            self.service = None
            if old.store != new.store:
                self._store = None
        self._config = new
        self.start()

    def shutdown(self) -> None:
        self.stop()

    def _build(self, config: MonitoringConfig) -> NotificationService:
        assert self._clock is not None
        if self._store is None:
            self._store = open_sql_store(config.store.location)
        incidents = None
        if config.alerting.incidents.enabled:
            incidents = IncidentManager(config.alerting.incidents, IncidentTables(self._store), self._publish)
        return NotificationService(config.alerting, NotifyTables(self._store), self._clock, incidents=incidents)

    def _on_transition(self, event: AlertTransition) -> None:
        """On the hub's thread: O(1) hand-over. A flapping alert waits until it settles."""
        service = self.service
        if service is None:
            return
        if getattr(event, "flapping", False) and event.state == "firing":
            return
        alert = alert_from_transition(event)
        # What leaves the process passes the outgoing-payload policy (compliance redaction) first.
        filtered = filter_payload(self._filters, {"labels": alert.labels, "annotations": alert.annotations})
        if filtered is None:
            return
        service.submit(replace(alert, labels=dict(filtered["labels"]), annotations=dict(filtered["annotations"])))

    def _publish(self, incident: Incident, change: str) -> None:
        if self._hub is not None:
            self._hub.publish(IncidentChanged(
                at=incident.updated_at, incident_id=incident.id, change=change, state=incident.state,
                title=incident.title, severity=incident.severity, escalation_level=incident.level,
            ))  # fmt: skip
