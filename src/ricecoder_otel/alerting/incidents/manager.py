"""Incidents from alert-group notifications: trigger, escalate, acknowledge, re-trigger, resolve.

- A notified firing group with no open incident (same dedup key) opens one (``triggered``); a
  later notification of the same group while it is open is a timeline entry.
- Escalation: level n's channels are notified ``delay`` after level n-1 (level 0 after the
  trigger) while nobody acknowledges; ``repeat`` runs the levels again that many times, starting
  ``loop_delay`` after the last level (unset: level 0's own ``delay``).
- Acknowledging stops escalation and, with ``ack_timeout``, re-triggers the incident (escalation
  from level 0) if it is not resolved in time.
- A group whose alerts all resolved resolves its incident when ``auto_resolve`` is on.
- Acknowledge and resolve are sent to the PagerDuty and OpsGenie channels that were told about
  the incident (PagerDuty ``acknowledge``/``resolve``, OpsGenie acknowledge/close by alias).

Every change appends to the incident's timeline; times come from the caller's clock.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from ricecoder_otel.alerting.incidents.model import Incident, TimelineEntry
from ricecoder_otel.alerting.incidents.tables import IncidentTables, new_incident_id
from ricecoder_otel.alerting.notify.alert import Alert
from ricecoder_otel.alerting.notify.channels import DeliveryResult
from ricecoder_otel.alerting.notify.dispatcher import Flush
from ricecoder_otel.alerting.notify.notification import Action, Notification
from ricecoder_otel.alerting.notify.tables import NewMessage, OutboxRow
from ricecoder_otel.config.model import IncidentsConfig

PAGING_TYPES = frozenset({"pagerduty", "opsgenie"})
SYSTEM = "ricecoder-otel"
Publisher = Callable[[Incident, str, str], None]
"""Told of each change: the incident, the change and who made it (:data:`SYSTEM` for the service)."""


class IncidentError(ValueError):
    """An operation that does not apply (unknown id, already resolved)."""


def _severity(alerts: Sequence[Alert]) -> str:
    order = ["critical", "error", "warning", "info"]
    found = [a.labels.get("severity", "") for a in alerts]
    return next((s for s in order if s in found), found[0] if found else "")


class IncidentManager:
    def __init__(self, config: IncidentsConfig, tables: IncidentTables, publish: Publisher | None = None) -> None:
        self.config = config
        self.tables = tables
        self.publish = publish

    # -- from the dispatcher ------------------------------------------------------------------------
    def on_flushes(self, flushes: Sequence[Flush], channel_types: dict[str, str], now: float) -> list[NewMessage]:
        """Open, update or auto-resolve incidents for this pass' notifications."""
        messages: list[NewMessage] = []
        by_group: dict[str, list[Flush]] = {}
        for flush in flushes:
            if flush.notification is not None:
                by_group.setdefault(flush.notification.group_key, []).append(flush)
        for group in by_group.values():
            notification = group[0].notification
            assert notification is not None
            told = {f.channel: channel_types.get(f.channel, "") for f in group}
            incident = self.tables.open_for(notification.dedup_key)
            if notification.status == "firing":
                if incident is None:
                    messages += self._trigger(notification, told, now)
                else:
                    self._save(replace(incident, channels={**incident.channels, **told},
                                       alerts=[a.to_json() for a in notification.alerts], updated_at=now),
                               TimelineEntry(now, SYSTEM, "notified", ",".join(sorted(told)),
                                             {"firing": len(notification.firing),
                                              "resolved": len(notification.resolved)}), "notified")  # fmt: skip
            elif incident is not None and self.config.auto_resolve:
                merged = {**incident.channels, **told}
                resolved = replace(incident, channels=merged, state="resolved", resolved_at=now, next_escalation=None,
                                   ack_deadline=None, updated_at=now,
                                   alerts=[a.to_json() for a in notification.alerts])  # fmt: skip
                self._save(resolved, TimelineEntry(now, SYSTEM, "resolved", "", {"reason": "all alerts resolved"}),
                           "resolved")  # fmt: skip
                # Paging channels that heard of it through escalation, not this group flush, get told too.
                messages += self._propagate(resolved, "resolve", "all alerts resolved", skip=set(told))
        return messages

    def _trigger(self, notification: Notification, told: dict[str, str], now: float) -> list[NewMessage]:
        alerts = list(notification.alerts)
        levels = self.config.escalation
        incident = Incident(
            id=new_incident_id(), dedup_key=notification.dedup_key, title=notification.title(),
            severity=_severity(alerts), state="triggered", group_key=notification.group_key, channels=told,
            labels=notification.common_labels, alerts=[a.to_json() for a in alerts], level=0, loops=0,
            next_escalation=now + levels[0].delay.total_seconds() if levels else None, ack_deadline=None,
            triggered_at=now, acknowledged_at=None, resolved_at=None, updated_at=now,
        )  # fmt: skip
        detail = {"firing": len(notification.firing), "channels": sorted(told)}
        self._save(incident, TimelineEntry(now, SYSTEM, "triggered", ",".join(sorted(told)), detail), "triggered")
        return []

    # -- timers -------------------------------------------------------------------------------------
    def tick(self, now: float, channel_types: dict[str, str]) -> list[NewMessage]:
        """Escalate unacknowledged incidents and re-trigger those whose acknowledgement timed out."""
        messages: list[NewMessage] = []
        levels = self.config.escalation
        for incident in self.tables.due(now):
            if incident.state == "acknowledged":
                first = now + levels[0].delay.total_seconds() if levels else None
                again = replace(incident, state="triggered", level=0, loops=0, ack_deadline=None, next_escalation=first,
                                updated_at=now)  # fmt: skip
                entry = TimelineEntry(now, SYSTEM, "retriggered", "", {"reason": "acknowledgement timed out"})
                self._save(again, entry, "retriggered")
                if first is None or first > now:
                    continue
                incident = again
            if not levels or incident.level >= len(levels):
                self._save(replace(incident, next_escalation=None, updated_at=now), None, "")
                continue
            level = levels[incident.level]
            names = [n for n in level.channels if n in channel_types]
            told = {n: channel_types[n] for n in names}
            note = Notification(
                receiver=f"escalation-{incident.level}", group_key=incident.group_key, group_labels=incident.labels,
                alerts=tuple(Alert.from_json(a) for a in incident.alerts), incident_id=incident.id, sent_at=now,
                note=f"escalation level {incident.level}",
            )  # fmt: skip
            messages += [NewMessage(n, note) for n in names]
            next_level, loops = incident.level + 1, incident.loops
            wait = levels[next_level].delay if next_level < len(levels) else None
            if next_level >= len(levels) and loops < self.config.repeat:
                next_level, loops = 0, loops + 1
                wait = self.config.loop_delay if self.config.loop_delay is not None else levels[0].delay
            next_at = now + wait.total_seconds() if wait is not None else None
            updated = replace(incident, level=next_level, loops=loops, next_escalation=next_at,
                              channels={**incident.channels, **told}, updated_at=now)  # fmt: skip
            entry = TimelineEntry(now, SYSTEM, "escalated", ",".join(names),
                                  {"level": incident.level, "loop": incident.loops})  # fmt: skip
            self._save(updated, entry, "escalated")
        return messages

    # -- by people (CLI, API) -----------------------------------------------------------------------
    def acknowledge(self, incident_id: str, actor: str, now: float, note: str = "") -> list[NewMessage]:
        incident = self._open(incident_id)
        if incident.state == "acknowledged":
            raise IncidentError(f"incident {incident_id} is already acknowledged")
        deadline = now + self.config.ack_timeout.total_seconds() if self.config.ack_timeout is not None else None
        acked = replace(incident, state="acknowledged", acknowledged_at=incident.acknowledged_at or now,
                        next_escalation=None, ack_deadline=deadline, updated_at=now)  # fmt: skip
        self._save(acked, TimelineEntry(now, actor, "acknowledged", "", {"note": note} if note else {}), "acknowledged")
        return self._propagate(acked, "acknowledge", note)

    def resolve(self, incident_id: str, actor: str, now: float, note: str = "") -> list[NewMessage]:
        incident = self._open(incident_id)
        resolved = replace(incident, state="resolved", resolved_at=now, next_escalation=None, ack_deadline=None,
                           updated_at=now)  # fmt: skip
        self._save(resolved, TimelineEntry(now, actor, "resolved", "", {"note": note} if note else {}), "resolved")
        return self._propagate(resolved, "resolve", note)

    def delivered(self, row: OutboxRow, result: DeliveryResult, outcome: str) -> None:
        """Delivery outcomes of incident notifications go on the incident's timeline."""
        incident_id = row.notification.incident_id
        if incident_id is None or outcome == "pending":
            return
        detail = {"message": row.id, "action": row.action, "attempts": row.attempts, "status": result.status,
                  "detail": result.detail}  # fmt: skip
        self.tables.append(incident_id, TimelineEntry(row.updated_ns / 1e9, SYSTEM, f"delivery {outcome}",
                                                      row.channel, detail))  # fmt: skip

    # -- helpers ------------------------------------------------------------------------------------
    def _open(self, incident_id: str) -> Incident:
        incident = self.tables.get(incident_id)
        if incident is None:
            raise IncidentError(f"no incident {incident_id}")
        if incident.state == "resolved":
            raise IncidentError(f"incident {incident_id} is already resolved")
        return incident

    def _propagate(self, incident: Incident, action: Action, note: str,
                   skip: set[str] | None = None) -> list[NewMessage]:  # fmt: skip
        names = [n for n, t in sorted(incident.channels.items()) if t in PAGING_TYPES and n not in (skip or set())]
        notification = Notification(
            receiver="incident", group_key=incident.group_key, group_labels=incident.labels,
            alerts=tuple(Alert.from_json(a) for a in incident.alerts), action=action, incident_id=incident.id,
            note=note, sent_at=incident.updated_at,
        )  # fmt: skip
        return [NewMessage(n, notification) for n in names]

    def _save(self, incident: Incident, entry: TimelineEntry | None, change: str) -> None:
        self.tables.save(incident, [entry] if entry is not None else [])
        if change and self.publish is not None:
            self.publish(incident, change, entry.actor if entry is not None else SYSTEM)
