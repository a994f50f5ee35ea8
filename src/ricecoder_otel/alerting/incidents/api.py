"""Incident operations as a Python API: list, show, acknowledge, resolve, postmortem, MTTA/MTTR.

Acknowledge and resolve write the incident, its timeline entry and the PagerDuty/OpsGenie
messages to the outbox; the running service's delivery worker sends them. They announce the change
(``ricecoder.incident`` with the actor; the audit trail records acknowledgements) on the hub passed
as ``hub``, else on the hub of the pipeline running in the process; with neither, nobody listens.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from ricecoder_otel.alerting.incidents.events import incident_event, running_hub
from ricecoder_otel.alerting.incidents.manager import IncidentManager
from ricecoder_otel.alerting.incidents.model import Incident, TimelineEntry, mean_times
from ricecoder_otel.alerting.incidents.postmortem import postmortem
from ricecoder_otel.alerting.incidents.tables import IncidentTables
from ricecoder_otel.alerting.notify.tables import NotifyTables
from ricecoder_otel.config.model import IncidentsConfig
from ricecoder_otel.kernel.events import EventHub
from ricecoder_otel.store.sql import SqlStore


def list_incidents(store: SqlStore, states: Sequence[str] = (), limit: int = 100) -> list[Incident]:
    return IncidentTables(store).find(states, limit)


def show(store: SqlStore, incident_id: str) -> tuple[Incident, list[TimelineEntry]] | None:
    tables = IncidentTables(store)
    incident = tables.get(incident_id)
    return None if incident is None else (incident, tables.timeline(incident_id))


def _act(store: SqlStore, config: IncidentsConfig, verb: str, incident_id: str, actor: str, note: str,
         now: float | None, hub: EventHub | None) -> Incident:  # fmt: skip
    current = time.time() if now is None else now
    target = hub if hub is not None else running_hub()

    def announce(incident: Incident, change: str, by: str) -> None:
        if target is not None:
            target.publish(incident_event(incident, change, by))

    manager = IncidentManager(config, IncidentTables(store), announce)
    act = manager.acknowledge if verb == "acknowledge" else manager.resolve
    messages = act(incident_id, actor, current, note)
    if messages:
        NotifyTables(store).commit_flush(messages, now=current)
    incident = IncidentTables(store).get(incident_id)
    assert incident is not None
    return incident


def acknowledge(store: SqlStore, incident_id: str, actor: str, *, note: str = "", config: IncidentsConfig | None = None,
                now: float | None = None, hub: EventHub | None = None) -> Incident:  # fmt: skip
    """Acknowledge (``IncidentError`` if unknown or closed); tells PagerDuty/OpsGenie through the outbox
    and announces it (audited) on ``hub`` or the running pipeline's."""
    return _act(store, config or IncidentsConfig(), "acknowledge", incident_id, actor, note, now, hub)


def resolve(store: SqlStore, incident_id: str, actor: str, *, note: str = "", config: IncidentsConfig | None = None,
            now: float | None = None, hub: EventHub | None = None) -> Incident:  # fmt: skip
    """Resolve by hand, like :func:`acknowledge` (the announcement is not an audit record)."""
    return _act(store, config or IncidentsConfig(), "resolve", incident_id, actor, note, now, hub)


def report(store: SqlStore, incident_id: str) -> dict[str, Any] | None:
    found = show(store, incident_id)
    return None if found is None else postmortem(*found)


def statistics(store: SqlStore, limit: int = 1000) -> dict[str, float | None]:
    """MTTA and MTTR over the most recent ``limit`` incidents."""
    return mean_times(IncidentTables(store).find((), limit))
