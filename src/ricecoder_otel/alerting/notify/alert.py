"""Alerts as Alertmanager sees them: a label set, its fingerprint, annotations and a time span.

The fingerprint is Alertmanager's (Prometheus ``model.LabelSet.Fingerprint``: FNV-1a 64 over
the sorted label names and values, each followed by the byte 0xff), so replicas that see the same
alert compute the same identity, and so do Alertmanager and any receiver that dedups on it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from ricecoder_otel.kernel.events import AlertTransition

_FNV_OFFSET = 14695981039346656037
_FNV_PRIME = 1099511628211
_MASK = 0xFFFFFFFFFFFFFFFF
_SEPARATOR = b"\xff"
_SERIES = re.compile(r"^(?P<metric>[^{]*)\{(?P<labels>.*)\}$", re.S)
_BAD_LABEL_CHAR = re.compile(r"[^A-Za-z0-9_]")
ZERO_TIME = "0001-01-01T00:00:00Z"
"""What Alertmanager writes as ``endsAt`` of a firing alert without an end."""

Status = Literal["firing", "resolved"]


def fingerprint(labels: Mapping[str, str]) -> str:
    """Alertmanager's label-set fingerprint as 16 hex digits."""
    value = _FNV_OFFSET
    for name in sorted(labels):
        for part in (name.encode(), _SEPARATOR, labels[name].encode(), _SEPARATOR):
            for byte in part:
                value = ((value ^ byte) * _FNV_PRIME) & _MASK
    return f"{value:016x}"


def label_name(name: str) -> str:
    """A Prometheus-valid label name (Alertmanager 0.25 rejects dots): ``http.route`` -> ``http_route``."""
    cleaned = _BAD_LABEL_CHAR.sub("_", name)
    return f"_{cleaned}" if not cleaned or cleaned[0].isdigit() else cleaned


def series_labels(series: str) -> dict[str, str]:
    """Labels of a series key ``metric{a=1,b=2}`` (names made Prometheus-valid); ``{}`` without braces."""
    match = _SERIES.match(series)
    if match is None or not match["labels"]:
        return {}
    labels: dict[str, str] = {}
    for pair in match["labels"].split(","):
        name, sep, value = pair.partition("=")
        if sep and name.strip():
            labels[label_name(name.strip())] = value.strip()
    return labels


def iso(epoch: float) -> str:
    """RFC 3339 in UTC with milliseconds, the way Alertmanager's API takes times."""
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Alert:
    """One alert instance: identity is the label set (``alertname`` included)."""

    labels: Mapping[str, str]
    annotations: Mapping[str, str] = field(default_factory=dict)
    starts_at: float = 0.0
    ends_at: float | None = None
    """Set when the alert resolved; None while firing."""
    generator_url: str = ""
    value: float | None = None

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.labels)

    @property
    def status(self) -> Status:
        return "firing" if self.ends_at is None else "resolved"

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "")

    def resolved(self, at: float) -> Alert:
        return replace(self, ends_at=at)

    def to_v4(self) -> dict[str, Any]:
        """The alert as it appears in an Alertmanager v4 webhook body."""
        return {
            "status": self.status,
            "labels": dict(self.labels),
            "annotations": dict(self.annotations),
            "startsAt": iso(self.starts_at),
            "endsAt": ZERO_TIME if self.ends_at is None else iso(self.ends_at),
            "generatorURL": self.generator_url,
            "fingerprint": self.fingerprint,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "labels": dict(self.labels), "annotations": dict(self.annotations), "starts_at": self.starts_at,
            "ends_at": self.ends_at, "generator_url": self.generator_url, "value": self.value,
        }  # fmt: skip

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Alert:
        return cls(
            labels=dict(data["labels"]), annotations=dict(data.get("annotations") or {}),
            starts_at=float(data["starts_at"]), ends_at=None if data.get("ends_at") is None else float(data["ends_at"]),
            generator_url=str(data.get("generator_url") or ""), value=data.get("value"),
        )  # fmt: skip


def alert_from_transition(event: AlertTransition) -> Alert:
    """The alert an engine transition describes: series labels, then rule labels, then name and severity."""
    labels = series_labels(event.series)
    labels.update({label_name(k): str(v) for k, v in event.labels.items()})
    labels["alertname"] = event.rule
    labels.setdefault("severity", event.severity)
    starts = float(getattr(event, "starts_at", 0.0) or event.active_since or event.at)
    ends = getattr(event, "ends_at", None)
    return Alert(
        labels=labels,
        annotations=dict(event.annotations),
        starts_at=starts,
        ends_at=(float(ends) if ends else event.at) if event.state == "resolved" else None,
        value=event.value,
    )
