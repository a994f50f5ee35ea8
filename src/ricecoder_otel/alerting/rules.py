"""The rule state machine, in plain Python with an injectable clock.

Prometheus semantics: a rule's condition holding for a series makes the alert
*pending*; once it has held for the rule's ``for`` duration the alert *fires*;
when the condition stops holding a firing alert *resolves*. A series that is
missing from an evaluation keeps its state (no data is not recovery).

Rules match series by metric name: ``http.server.request.duration`` matches the
series key ``http.server.request.duration`` and every labelled variant
``http.server.request.duration{http.route=/orders}``.
"""

from __future__ import annotations

import operator as op
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from ricecoder_otel.config import AlertRule
from ricecoder_otel.kernel.events import AlertTransition

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">": op.gt,
    ">=": op.ge,
    "<": op.lt,
    "<=": op.le,
    "==": op.eq,
    "!=": op.ne,
}


AlertEvent = AlertTransition
"""What the engine reports: an alert started firing or resolved (the hub's event type)."""


@dataclass
class _Active:
    since: float
    firing: bool = False


def matches(metric: str, series: str) -> bool:
    return series == metric or (series.startswith(metric) and series[len(metric) : len(metric) + 1] == "{")


class RuleEngine:
    def __init__(self, rules: Iterable[AlertRule] = (), clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()  # rules reload on the config watcher's thread
        self._rules: list[AlertRule] = []
        self._active: dict[tuple[str, str], _Active] = {}
        self.set_rules(rules)

    def set_rules(self, rules: Iterable[AlertRule]) -> None:
        """Swap the rule set; alerts of rules that are gone or disabled are forgotten."""
        enabled = [rule for rule in rules if rule.enabled]
        names = {rule.name for rule in enabled}
        with self._lock:
            self._rules = enabled
            self._active = {key: state for key, state in self._active.items() if key[0] in names}

    def evaluate(self, kind: str, values: Mapping[str, float]) -> list[AlertEvent]:
        """Evaluate the rules of ``kind`` against the latest value of each series."""
        now = self._clock()
        events: list[AlertEvent] = []
        with self._lock:
            self._evaluate(kind, values, now, events)
        return events

    def _evaluate(self, kind: str, values: Mapping[str, float], now: float, events: list[AlertEvent]) -> None:
        for rule in self._rules:
            if rule.kind != kind:
                continue
            compare = _COMPARE[rule.operator]
            hold = rule.for_.total_seconds()
            for series, value in values.items():
                if not matches(rule.metric, series):
                    continue
                key = (rule.name, series)
                state = self._active.get(key)
                if compare(value, rule.threshold):
                    if state is None:
                        state = self._active[key] = _Active(since=now)
                    if not state.firing and now - state.since >= hold:
                        state.firing = True
                        events.append(self._event(rule, series, "firing", value, state.since, now))
                elif state is not None:
                    del self._active[key]
                    if state.firing:
                        events.append(self._event(rule, series, "resolved", value, state.since, now))

    def firing(self) -> list[tuple[str, str]]:
        """(rule, series) of every alert firing now."""
        with self._lock:
            return [key for key, state in self._active.items() if state.firing]

    @staticmethod
    def _event(
        rule: AlertRule, series: str, state: Literal["firing", "resolved"], value: float, since: float, now: float
    ) -> AlertEvent:
        return AlertTransition(
            at=now,
            rule=rule.name,
            series=series,
            state=state,
            value=value,
            threshold=rule.threshold,
            severity=rule.severity,
            active_since=since,
            labels=dict(rule.labels),
            annotations=dict(rule.annotations),
        )
