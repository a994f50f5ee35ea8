"""Incident changes as ``ricecoder.incident`` hub events (the audit trail records acknowledgements).

The notifications capability publishes its own incidents' changes on its hub; acknowledgements and
resolutions made through the Python API go to the hub passed in, else to the hub of the pipeline
running in the process, so an application's own calls are audited without it passing the hub.
"""

from __future__ import annotations

from ricecoder_otel.alerting.incidents.model import Incident
from ricecoder_otel.kernel.events import EventHub, IncidentChanged


def incident_event(incident: Incident, change: str, actor: str) -> IncidentChanged:
    return IncidentChanged(
        at=incident.updated_at, incident_id=incident.id, change=change, state=incident.state, title=incident.title,
        severity=incident.severity, escalation_level=incident.level, actor=actor,
    )  # fmt: skip


def running_hub() -> EventHub | None:
    """The event hub of the pipeline running in this process, if any."""
    from ricecoder_otel.pipeline import active_pipeline  # late: the pipeline imports the capabilities

    pipeline = active_pipeline()
    return pipeline.hub if pipeline is not None else None
