"""An incident: one alert group's trouble from trigger to resolution, with its timeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

IncidentState = Literal["triggered", "acknowledged", "resolved"]


@dataclass(frozen=True)
class TimelineEntry:
    at: float
    actor: str
    action: str
    channel: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at, "actor": self.actor, "action": self.action, "channel": self.channel,
                "detail": self.detail}  # fmt: skip


@dataclass(frozen=True)
class Incident:
    id: str
    dedup_key: str
    title: str
    severity: str
    state: IncidentState
    group_key: str
    channels: dict[str, str]
    """Channel name -> type, every channel told about it (acknowledge/resolve go to the paging ones)."""
    labels: dict[str, str]
    alerts: list[dict[str, Any]]
    level: int
    loops: int
    next_escalation: float | None
    ack_deadline: float | None
    triggered_at: float
    acknowledged_at: float | None
    resolved_at: float | None
    updated_at: float

    @property
    def time_to_acknowledge(self) -> float | None:
        return None if self.acknowledged_at is None else self.acknowledged_at - self.triggered_at

    @property
    def time_to_resolve(self) -> float | None:
        return None if self.resolved_at is None else self.resolved_at - self.triggered_at

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "dedup_key": self.dedup_key, "title": self.title, "severity": self.severity,
            "state": self.state, "group_key": self.group_key, "channels": self.channels, "labels": self.labels,
            "alerts": self.alerts, "level": self.level, "loops": self.loops, "next_escalation": self.next_escalation,
            "ack_deadline": self.ack_deadline, "triggered_at": self.triggered_at,
            "acknowledged_at": self.acknowledged_at, "resolved_at": self.resolved_at, "updated_at": self.updated_at,
            "time_to_acknowledge": self.time_to_acknowledge, "time_to_resolve": self.time_to_resolve,
        }  # fmt: skip


def mean_times(incidents: list[Incident]) -> dict[str, float | None]:
    """MTTA and MTTR in seconds over the incidents that were acknowledged / resolved."""
    acks = [i.time_to_acknowledge for i in incidents if i.time_to_acknowledge is not None]
    fixes = [i.time_to_resolve for i in incidents if i.time_to_resolve is not None]
    return {
        "mtta_seconds": sum(acks) / len(acks) if acks else None,
        "mttr_seconds": sum(fixes) / len(fixes) if fixes else None,
        "acknowledged": len(acks),
        "resolved": len(fixes),
    }
