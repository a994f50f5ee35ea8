"""The performance thresholds as built-in alerts (pure: no OpenTelemetry, clock injected).

Three rules, evaluated by the performance capability and published on the hub as
:class:`~ricecoder_otel.kernel.events.AlertTransition` events like any alert rule's, so the
notification capability routes, groups and silences them the same way:

- ``performance.p95_response_time``: per server operation (route and method), the p95 over the
  sliding window against ``max_response_time_ms`` (or the route's override), once the window holds
  at least ``min_requests`` requests;
- ``performance.memory``: the process' resident memory (MB) against ``max_memory_mb``;
- ``performance.cpu``: the process' CPU use (percent of all cores) against ``max_cpu_percent``.

An instance fires once its condition has held for ``for_s`` (pending before that), and resolves
at the first evaluation it no longer holds, or when it is no longer checked (a threshold
switched off, a route gone from the window).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ricecoder_otel.kernel.events import AlertTransition

P95_RULE = "performance.p95_response_time"
MEMORY_RULE = "performance.memory"
CPU_RULE = "performance.cpu"
RULES: tuple[str, ...] = (P95_RULE, MEMORY_RULE, CPU_RULE)


def fingerprint(labels: Mapping[str, str]) -> str:
    """16 hex digits of SHA-256 over the sorted labels: the alerting engine's fingerprint."""
    text = "\xff".join(f"{k}\xfe{v}" for k, v in sorted(labels.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Check:
    """One observed value of one rule instance against its threshold (``value > threshold`` holds)."""

    rule: str
    series: str
    value: float
    threshold: float
    labels: Mapping[str, str] = field(default_factory=dict)
    summary: str = ""

    @property
    def holds(self) -> bool:
        return self.value > self.threshold


@dataclass
class _Instance:
    since: float
    firing_since: float | None = None
    check: Check | None = None


class ThresholdAlerts:
    """Pending/firing/resolved state of every threshold instance; evaluate() returns the transitions."""

    def __init__(self, *, severity: str = "warning", for_s: float = 0.0) -> None:
        self.severity = severity
        self.for_s = for_s
        self._instances: dict[tuple[str, str], _Instance] = {}

    def firing(self) -> list[Check]:
        """The checks of the instances firing now."""
        return [i.check for i in self._instances.values() if i.firing_since is not None and i.check is not None]

    def evaluate(self, checks: Iterable[Check], now: float) -> list[AlertTransition]:
        transitions: list[AlertTransition] = []
        checked: set[tuple[str, str]] = set()
        for check in checks:
            key = (check.rule, check.series)
            checked.add(key)
            instance = self._instances.get(key)
            if not check.holds:
                if instance is not None:
                    del self._instances[key]
                    if instance.firing_since is not None:
                        transitions.append(self._event(check, "resolved", instance.firing_since, now))
                continue
            if instance is None:
                instance = self._instances[key] = _Instance(since=now)
            instance.check = check
            if instance.firing_since is None and now - instance.since >= self.for_s:
                instance.firing_since = now
                transitions.append(self._event(check, "firing", now, now))
        for key in [k for k in self._instances if k not in checked]:
            gone = self._instances.pop(key)
            if gone.firing_since is not None and gone.check is not None:
                transitions.append(self._event(gone.check, "resolved", gone.firing_since, now))
        return transitions

    def _event(self, check: Check, state: str, starts_at: float, now: float) -> AlertTransition:
        labels = {"alertname": check.rule, **check.labels, "severity": self.severity}
        annotations = {"summary": check.summary} if check.summary else {}
        return AlertTransition(
            at=now,
            rule=check.rule,
            series=check.series,
            state="firing" if state == "firing" else "resolved",
            value=check.value,
            threshold=check.threshold,
            severity=self.severity,
            active_since=starts_at,
            labels=labels,
            annotations=annotations,
            fingerprint=fingerprint(labels),
            starts_at=starts_at,
            ends_at=None if state == "firing" else now,
        )
