"""Notifications and incidents as a capability: alert transitions in, channels and incidents out.

Subscribes to :class:`~ricecoder_otel.kernel.events.AlertTransition` (published by the rule engine)
and hands each alert to the :class:`NotificationService`, whose own threads group, queue and
deliver. The engine publishes one evaluation's transitions as one hub batch, and the subscription
takes batches: they are submitted together, so the dispatcher ingests the whole burst in one pass
(one group notification even with ``group_wait`` 0s). Scheduled analytics reports
(:class:`~ricecoder_otel.kernel.events.AnalyticsReportGenerated`) are handed over as one-off
messages, through the same payload policy, for the routes that select them (:mod:`.reports`).
Incident changes are published as ``ricecoder.incident`` events. The store is the one configured
in ``store.location`` (else the process default), opened on the worker thread, so nothing here
touches disk on the hub's thread. With no channel configured nothing runs. Config changes rebuild
the service; the outbox, log and incidents stay in the store. Switched off, the threads stop;
queued messages wait in the outbox for the next start.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import TYPE_CHECKING

from ricecoder_otel.alerting.incidents.events import incident_event
from ricecoder_otel.alerting.incidents.manager import IncidentManager
from ricecoder_otel.alerting.incidents.model import Incident
from ricecoder_otel.alerting.incidents.tables import IncidentTables
from ricecoder_otel.alerting.notify.alert import Alert, alert_from_transition
from ricecoder_otel.alerting.notify.reports import report_alert
from ricecoder_otel.alerting.notify.service import NotificationService
from ricecoder_otel.alerting.notify.tables import NotifyTables
from ricecoder_otel.kernel.capability import Capability, Clock, InstallContext, PayloadFilter, filter_payload
from ricecoder_otel.kernel.events import (
    AlertTransition,
    AnalyticsReportGenerated,
    EventHub,
    Subscription,
)
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
        self._report_subscription: Subscription[AnalyticsReportGenerated] | None = None
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
            self._subscription = self._hub.subscribe_batch(AlertTransition, self._on_transitions,
                                                           name="alerting.notify")  # fmt: skip
        if self._report_subscription is None:
            self._report_subscription = self._hub.subscribe(AnalyticsReportGenerated, self._on_report,
                                                            name="alerting.notify.reports")  # fmt: skip

    def stop(self) -> None:
        if self._subscription is not None:
            self._subscription.cancel()
            self._subscription = None
        if self._report_subscription is not None:
            self._report_subscription.cancel()
            self._report_subscription = None
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

    def _on_transitions(self, events: tuple[AlertTransition, ...]) -> None:
        """On the hub's thread: one publish's transitions (one evaluation's), handed over together."""
        service = self.service
        alerts = [alert for event in events if (alert := self._alert(event)) is not None]
        if service is None or not alerts:
            return
        if len(alerts) == 1:
            service.submit(alerts[0])
        else:
            service.submit_many(alerts)

    def _alert(self, event: AlertTransition) -> Alert | None:
        """The alert to notify about; None while it flaps or when the payload policy withholds it."""
        if getattr(event, "flapping", False) and event.state == "firing":
            return None
        return self._filtered(alert_from_transition(event))

    def _on_report(self, event: AnalyticsReportGenerated) -> None:
        """On the hub's thread: a generated report, queued for the routes that select reports."""
        service = self.service
        report = self._filtered(report_alert(event))
        if service is not None and report is not None:
            service.submit_report(report)

    def _filtered(self, alert: Alert) -> Alert | None:
        """What leaves the process passes the outgoing-payload policy (compliance redaction) first."""
        filtered = filter_payload(self._filters, {"labels": alert.labels, "annotations": alert.annotations})
        if filtered is None:
            return None
        return replace(alert, labels=dict(filtered["labels"]), annotations=dict(filtered["annotations"]))

    def _publish(self, incident: Incident, change: str, actor: str) -> None:
        if self._hub is not None:
            self._hub.publish(incident_event(incident, change, actor))

