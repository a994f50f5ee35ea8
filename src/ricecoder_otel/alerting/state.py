"""The state of one rule's alert instances, with Prometheus' ``for`` and ``keep_firing_for``.

This is ``rules/alerting.go`` (Prometheus 2.42) step by step, for one evaluation at ``now``
given the instances whose condition holds:

- a new instance is *pending* with ``active_at = now``; it *fires* once
  ``now - active_at >= for`` (with no ``for``, on the same evaluation);
- an instance whose condition no longer holds: a pending one is dropped; a firing one keeps
  firing while ``now - keep_firing_since < keep_firing_for`` (``keep_firing_since`` is the first
  evaluation it did not hold, reset when it holds again), otherwise it *resolves*;
- a resolved instance whose condition holds again starts over as pending.

Flapping (Nagios): the condition's result at each of the last ``history`` evaluations; the share
of changes between them, recent ones weighted more (0.8 to 1.2), above ``high`` starts
flapping and below ``low`` ends it. Plain Python, no OpenTelemetry imports.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Literal

State = Literal["pending", "firing"]


@dataclass
class Instance:
    """One alert instance (a rule and one label set)."""

    labels: dict[str, str]
    active_at: float
    state: State = "pending"
    value: float = 0.0
    fired_at: float | None = None
    keep_firing_since: float | None = None


@dataclass(frozen=True)
class Change:
    """A transition of one instance: it started firing or it resolved (or it only became pending)."""

    key: str
    instance: Instance
    state: Literal["pending", "firing", "resolved"]
    at: float


@dataclass
class FlapHistory:
    """The last results of an instance's condition, and whether it is flapping now."""

    size: int
    results: deque[bool] = field(default_factory=deque)
    flapping: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    value: float = 0.0

    def record(self, holds: bool, high: float, low: float) -> bool | None:
        """Add one result; return the new flapping flag when it changed, else None."""
        self.results.append(holds)
        while len(self.results) > self.size:
            self.results.popleft()
        if len(self.results) < self.size:
            return None
        share = flap_share(list(self.results))
        if not self.flapping and share > high:
            self.flapping = True
            return True
        if self.flapping and share < low:
            self.flapping = False
            return False
        return None

    @property
    def quiet(self) -> bool:
        return not self.flapping and not any(self.results)


def flap_share(results: list[bool]) -> float:
    """Weighted share of state changes (0..1), newer changes weighing up to 1.5 times older ones."""
    changes = len(results) - 1
    if changes < 1:
        return 0.0
    weighted = 0.0
    for i in range(changes):
        if results[i] != results[i + 1]:
            weighted += 0.8 + 0.4 * i / max(changes - 1, 1)
    return weighted / changes


class RuleState:
    """The instances of one rule; :meth:`step` applies one evaluation."""

    def __init__(self, hold: float, keep_firing_for: float) -> None:
        self.hold = hold
        self.keep_firing_for = keep_firing_for
        self.instances: dict[str, Instance] = {}

    def step(self, now: float, holding: dict[str, tuple[dict[str, str], float]]) -> list[Change]:
        """One evaluation: ``holding`` maps the key of each instance whose condition holds to its labels and value."""
        changes: list[Change] = []
        for key, (labels, value) in holding.items():
            current = self.instances.get(key)
            if current is not None:
                current.value = value
                current.keep_firing_since = None
                continue
            instance = self.instances[key] = Instance(labels, now, value=value)
            changes.append(Change(key, instance, "pending", now))
        for key, instance in list(self.instances.items()):
            if key not in holding:
                keep = False
                if instance.state == "firing" and self.keep_firing_for > 0:
                    if instance.keep_firing_since is None:
                        instance.keep_firing_since = now
                    keep = now - instance.keep_firing_since < self.keep_firing_for
                if not keep:
                    del self.instances[key]
                    if instance.state == "firing":
                        changes.append(Change(key, instance, "resolved", now))
                    continue
            if instance.state == "pending" and now - instance.active_at >= self.hold:
                instance.state, instance.fired_at = "firing", now
                changes.append(Change(key, instance, "firing", now))
        return changes
