"""One notification: what a receiver is told about one alert group at one flush.

It is what the outbox stores (no secrets: channel settings are read at send time), and every
channel renders its request from it. ``action`` is ``notify`` for group flushes and
``acknowledge``/``resolve`` when an incident changes by hand, which only paging channels act on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ricecoder_otel.alerting.notify.alert import Alert, Status

Action = Literal["notify", "acknowledge", "resolve", "alerts"]


def common(maps: Sequence[Mapping[str, str]]) -> dict[str, str]:
    """The pairs every mapping shares (Alertmanager's commonLabels / commonAnnotations)."""
    if not maps:
        return {}
    first = dict(maps[0])
    return {k: v for k, v in first.items() if all(m.get(k) == v for m in maps[1:])}


@dataclass(frozen=True)
class Notification:
    receiver: str
    group_key: str
    group_labels: Mapping[str, str]
    alerts: tuple[Alert, ...]
    action: Action = "notify"
    external_url: str = ""
    incident_id: str | None = None
    note: str = ""
    sent_at: float = 0.0
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> Status:
        return "firing" if any(a.status == "firing" for a in self.alerts) else "resolved"

    @property
    def firing(self) -> list[Alert]:
        return [a for a in self.alerts if a.status == "firing"]

    @property
    def resolved(self) -> list[Alert]:
        return [a for a in self.alerts if a.status == "resolved"]

    @property
    def dedup_key(self) -> str:
        """Alertmanager's PagerDuty dedup key / OpsGenie alias: sha256 of the group key."""
        return hashlib.sha256(self.group_key.encode()).hexdigest()

    @property
    def common_labels(self) -> dict[str, str]:
        return common([a.labels for a in self.alerts])

    @property
    def common_annotations(self) -> dict[str, str]:
        return common([a.annotations for a in self.alerts])

    def title(self) -> str:
        """``[FIRING:2] HighErrorRate checkout`` or ``[RESOLVED] HighErrorRate checkout``: Alertmanager's
        default subject line (it counts only firing alerts)."""
        status = f"FIRING:{len(self.firing)}" if self.status == "firing" else self.status.upper()
        values = " ".join(v for k, v in sorted(self.group_labels.items()) if k != "alertname")
        name = self.group_labels.get("alertname") or self.common_labels.get("alertname", "")
        text = f"[{status}] {name}"
        return f"{text} {values}".rstrip() if values else text

    def to_v4(self, max_alerts: int = 0) -> dict[str, Any]:
        """The Alertmanager 0.25 webhook body (``version: "4"``)."""
        alerts = list(self.alerts)
        truncated = 0
        if max_alerts and len(alerts) > max_alerts:
            truncated, alerts = len(alerts) - max_alerts, alerts[:max_alerts]
        return {
            "version": "4",
            "groupKey": self.group_key,
            "truncatedAlerts": truncated,
            "status": self.status,
            "receiver": self.receiver,
            "groupLabels": dict(self.group_labels),
            "commonLabels": self.common_labels,
            "commonAnnotations": self.common_annotations,
            "externalURL": self.external_url,
            "alerts": [a.to_v4() for a in alerts],
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "receiver": self.receiver, "group_key": self.group_key, "group_labels": dict(self.group_labels),
            "alerts": [a.to_json() for a in self.alerts], "action": self.action, "external_url": self.external_url,
            "incident_id": self.incident_id, "note": self.note, "sent_at": self.sent_at, "extra": dict(self.extra),
        }  # fmt: skip

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Notification:
        return cls(
            receiver=str(data["receiver"]), group_key=str(data["group_key"]),
            group_labels=dict(data.get("group_labels") or {}),
            alerts=tuple(Alert.from_json(a) for a in data.get("alerts") or ()),
            action=data.get("action", "notify"), external_url=str(data.get("external_url") or ""),
            incident_id=data.get("incident_id"), note=str(data.get("note") or ""),
            sent_at=float(data.get("sent_at") or 0.0), extra=dict(data.get("extra") or {}),
        )  # fmt: skip
