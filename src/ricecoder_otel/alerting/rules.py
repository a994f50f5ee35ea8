"""The rule engine: rule kinds, alert instances and their transitions, in plain Python.

Each evaluation (:meth:`RuleEngine.tick`) adds the latest in-process values to the windows
(:mod:`series`), computes every rule's value per alert instance, and steps each rule's state
(:mod:`state`, Prometheus' ``for``/``keep_firing_for``). Transitions to firing and to resolved
come back as :class:`~ricecoder_otel.kernel.events.AlertTransition` events with rendered
annotations, a fingerprint (the same on every replica) and a flapping flag.

Alert instances: without ``group_by`` every series is one instance (its attributes are labels);
with it, series with equal values of those attributes are combined into one. Labels of an
instance: ``alertname``, the group's attributes, ``severity`` and the rule's ``labels``.

Rules of kind ``anomaly`` are evaluated when anomaly scores arrive (:meth:`evaluate`); a rule's
``metric`` matches the score of that series and of its labelled variants
(``http.server.request.duration{http.route=/orders}``), and a series missing from the scores
keeps its state.
"""

from __future__ import annotations

import hashlib
import math
import operator as op
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from ricecoder_otel.alerting import aggregate
from ricecoder_otel.alerting.series import Labels, MetricSnapshot, Series, SeriesStore
from ricecoder_otel.alerting.state import Change, FlapHistory, Instance, RuleState
from ricecoder_otel.alerting.templates import TemplateError, render
from ricecoder_otel.config import AlertRule
from ricecoder_otel.config.model import FlapDetection
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

Holding = dict[Labels, float]
TemplateProblem = Callable[[str, str, str], None]


def matches(metric: str, series: str) -> bool:
    return series == metric or (series.startswith(metric) and series[len(metric) : len(metric) + 1] == "{")


def fingerprint(labels: Mapping[str, str]) -> str:
    """A stable id of a label set: the same alert has the same fingerprint on every replica."""
    text = "\xff".join(f"{k}\xfe{v}" for k, v in sorted(labels.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def prometheus_label(key: str) -> str:
    """The label name Prometheus stores for an attribute (``http.route`` -> ``http_route``)."""
    cleaned = "".join(c if c.isascii() and c.isalnum() else "_" for c in key)
    while "__" in cleaned:
        cleaned = cleaned.replace("__", "_")
    return "_" + cleaned[1:] if cleaned[:1].isdigit() else cleaned


def series_name(metric: str, labels: Labels) -> str:
    return f"{metric}{{{','.join(f'{k}={v}' for k, v in labels)}}}" if labels else metric


def rule_windows(rule: AlertRule) -> dict[str, set[float]]:
    """The windows each metric needs for ``rule``."""
    window = rule.window.total_seconds()
    if rule.kind == "burn_rate":
        spans = {w.long.total_seconds() for w in rule.burn_windows}
        spans |= {w.short.total_seconds() for w in rule.burn_windows}
        return {rule.metric: set(spans), rule.total_metric: set(spans)}
    if rule.kind == "error_ratio":
        return {rule.metric: {window}, rule.total_metric: {window}}
    if rule.kind in ("anomaly", "composite"):
        return {}
    return {rule.metric: {window}}


@dataclass
class _RuleRun:
    rule: AlertRule
    state: RuleState
    holding: Holding


class RuleEngine:
    """Evaluates the rules; thread-safe (rules reload on the config watcher's thread)."""

    def __init__(
        self,
        rules: Iterable[AlertRule] = (),
        clock: Callable[[], float] = time.time,
        *,
        step: float = 1.0,
        flapping: FlapDetection | None = None,
        on_template_error: TemplateProblem | None = None,
    ) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._step = step
        self._flap = flapping or FlapDetection()
        self._runs: dict[str, _RuleRun] = {}
        self._flaps: dict[tuple[str, str], FlapHistory] = {}
        self._published: dict[tuple[str, str], bool] = {}
        self.store = SeriesStore(step=step)
        self.on_change: Callable[[str, Change], None] | None = None
        """Called for each change (pending, firing, resolved) under the engine's lock: persistence."""
        self.on_template_error = on_template_error
        self.set_rules(rules)

    # -- rules ------------------------------------------------------------------------------

    def set_rules(self, rules: Iterable[AlertRule], *, step: float | None = None,
                  flapping: FlapDetection | None = None) -> None:  # fmt: skip
        """Swap the rule set; alerts of rules that are gone, disabled or changed start over."""
        enabled = [rule for rule in rules if rule.enabled]
        with self._lock:
            self._step = step or self._step
            self._flap = flapping or self._flap
            runs: dict[str, _RuleRun] = {}
            for rule in enabled:
                old = self._runs.get(rule.name)
                if old is not None and old.rule == rule:
                    runs[rule.name] = old
                else:
                    hold, keep = rule.for_.total_seconds(), rule.keep_firing_for.total_seconds()
                    runs[rule.name] = _RuleRun(rule, RuleState(hold, keep), {})
            self._runs = runs
            self._flaps = {k: v for k, v in self._flaps.items() if k[0] in runs}
            windows: dict[str, set[float]] = {}
            for rule in enabled:
                for metric, spans in rule_windows(rule).items():
                    windows.setdefault(metric, set()).update(spans)
            self.store.need(windows, self._step)

    @property
    def rules(self) -> list[AlertRule]:
        return [run.rule for run in self._runs.values()]

    def metrics(self) -> set[str]:
        """The metrics the rules read (what the collector should hand to :meth:`tick`)."""
        return set(self.store.windows)

    # -- evaluation -------------------------------------------------------------------------

    def tick(self, snapshot: Mapping[str, MetricSnapshot], now: float | None = None) -> list[AlertEvent]:
        """One evaluation of every rule except ``anomaly`` ones, from the current values."""
        now = self._clock() if now is None else now
        events: list[AlertEvent] = []
        with self._lock:
            self.store.observe(now, snapshot)
            runs = list(self._runs.values())
            for run in runs:
                if run.rule.kind not in ("anomaly", "composite"):
                    run.holding = self._holding(run.rule, now)
                    self._step_rule(run, run.holding, now, events)
            for run in runs:
                if run.rule.kind == "composite":
                    run.holding = self._composite(run.rule)
                    self._step_rule(run, run.holding, now, events)
        return events

    def evaluate(self, kind: str, values: Mapping[str, float]) -> list[AlertEvent]:
        """Evaluate the rules of ``kind`` (``anomaly``) against the latest value of each series."""
        now = self._clock()
        events: list[AlertEvent] = []
        with self._lock:
            for run in self._runs.values():
                rule = run.rule
                if rule.kind != kind:
                    continue
                compare, threshold = _COMPARE[rule.operator], float(rule.threshold or 0.0)
                holding: Holding = {}
                for series, value in values.items():
                    if matches(rule.metric, series) and compare(value, threshold):
                        holding[(("series", series),)] = value
                for instance in run.state.instances.values():  # missing from the scores: unchanged
                    key = (("series", instance.labels["series"]),)
                    if instance.labels["series"] not in values and key not in holding:
                        holding[key] = instance.value
                run.holding = holding  # what composite rules over this one see at the next tick
                self._step_rule(run, holding, now, events)
        return events

    def firing(self) -> list[tuple[str, str]]:
        """(rule, series) of every alert firing now."""
        with self._lock:
            return [(name, _series_of(run.rule, i)) for name, run in self._runs.items()
                    for i in run.state.instances.values() if i.state == "firing"]  # fmt: skip

    def instances(self) -> list[tuple[AlertRule, str, Instance]]:
        """Every pending or firing instance with its rule and key."""
        with self._lock:
            return [(run.rule, key, i) for run in self._runs.values() for key, i in run.state.instances.items()]

    def restore(self, rule_name: str, key: str, instance: Instance) -> None:
        """Put back an instance read from the store (after a restart); unknown rules are ignored."""
        with self._lock:
            run = self._runs.get(rule_name)
            if run is not None:
                run.state.instances[key] = instance

    # -- rule kinds -------------------------------------------------------------------------

    def _holding(self, rule: AlertRule, now: float) -> Holding:
        values = self._values(rule, now)
        compare = _COMPARE[rule.operator]
        if rule.kind in ("burn_rate", "absence"):
            return {k: v for k, (v, holds) in values.items() if holds}
        threshold = float(rule.threshold or 0.0)
        return {k: v for k, (v, _) in values.items() if not math.isnan(v) and compare(v, threshold)}

    def _values(self, rule: AlertRule, now: float) -> dict[Labels, tuple[float, bool]]:
        window = rule.window.total_seconds()
        if rule.kind == "threshold":
            return {k: (v, True) for k, v in self._aggregate(rule, now).items()}
        if rule.kind == "rate":
            return {k: (v, True) for k, v in self._change(rule, now).items()}
        if rule.kind == "error_ratio":
            return {k: (v, True) for k, v in self._ratio(rule, window, now).items()}
        if rule.kind == "burn_rate":
            return self._burn(rule, now)
        return self._absence(rule, window, now)

    def _groups(self, rule: AlertRule, metric: str, whole: bool = False) -> dict[Labels, list[Series]]:
        groups: dict[Labels, list[Series]] = {}
        wanted = rule.match.items()
        group_by = rule.group_by if rule.group_by is not None else ([] if whole else None)
        for labels, series in self.store.series(metric).items():
            attributes = dict(labels)
            if not wanted <= attributes.items():
                continue
            key = labels if group_by is None else tuple((k, attributes[k]) for k in group_by if k in attributes)
            groups.setdefault(key, []).append(series)
        return groups

    def _aggregate(self, rule: AlertRule, now: float) -> dict[Labels, float]:
        kind = self.store.kinds.get(rule.metric)
        if kind is None:
            return {}
        aggregation = rule.aggregation or aggregate.default_aggregation(kind)
        window = rule.window.total_seconds()
        result: dict[Labels, float] = {}
        for key, members in self._groups(rule, rule.metric).items():
            parts = [p for s in members if (p := aggregate.partial(s, aggregation, window, now)) is not None]
            combined = aggregate.combine(kind, aggregation, parts)
            if combined is not None:
                value = aggregate.finish(kind, aggregation, combined, window, rule.quantile)
                if value is not None:
                    result[key] = value
        return result

    def _change(self, rule: AlertRule, now: float) -> dict[Labels, float]:
        window = rule.window.total_seconds()
        result: dict[Labels, float] = {}
        for key, members in self._groups(rule, rule.metric).items():
            rates = [r for s in members if (r := aggregate.change_rate(s, window, now)) is not None]
            if rates:
                result[key] = sum(rates)
        return result

    def _increase(self, rule: AlertRule, metric: str, window: float, now: float) -> dict[Labels, float]:
        totals: dict[Labels, float] = {}
        for key, members in self._groups(rule, metric, whole=True).items():
            for series in members:
                grown = aggregate.increase(series, window, now)
                if grown is not None:
                    totals[key] = totals.get(key, 0.0) + (grown if isinstance(grown, float) else grown.count)
        return totals

    def _ratio(self, rule: AlertRule, window: float, now: float) -> dict[Labels, float]:
        errors = self._increase(rule, rule.metric, window, now)
        totals = self._increase(rule, rule.total_metric, window, now)
        return {k: errors.get(k, 0.0) / total for k, total in totals.items() if total > 0}

    def _burn(self, rule: AlertRule, now: float) -> dict[Labels, tuple[float, bool]]:
        """Burn rate of each pair's long window; holds when both windows of some pair exceed its factor."""
        budget = 1 - float(rule.objective or 0.0)
        result: dict[Labels, tuple[float, bool]] = {}
        for pair in rule.burn_windows:
            long_s, short_s = pair.long.total_seconds(), pair.short.total_seconds()
            long_ratio = self._ratio(rule, long_s, now)
            short_ratio = self._ratio(rule, short_s, now)
            traffic = self._increase(rule, rule.total_metric, long_s, now)
            for key, ratio in long_ratio.items():
                burn = ratio / budget
                holds = (burn > pair.factor and key in short_ratio and short_ratio[key] / budget > pair.factor
                         and traffic.get(key, 0.0) >= rule.min_events)  # fmt: skip
                if key not in result or (holds and not result[key][1]):
                    result[key] = (burn, holds)
        return result

    def _absence(self, rule: AlertRule, window: float, now: float) -> dict[Labels, tuple[float, bool]]:
        groups = self._groups(rule, rule.metric, whole=True)
        result: dict[Labels, tuple[float, bool]] = {}
        for key, members in groups.items():
            latest = max((s.seen_at if s.kind == "gauge" else s.changed_at) for s in members)
            result[key] = (now - latest, now - latest >= window)
        started = self.store.started if self.store.started is not None else now
        if not groups and not rule.group_by:
            result[()] = (now - started, now - started >= window)
        return result

    def _composite(self, rule: AlertRule) -> Holding:
        group_by = rule.group_by or []
        projected: list[dict[Labels, float]] = []
        for name in rule.rules:
            operand = self._runs.get(name)
            groups: dict[Labels, float] = {}
            for labels, value in (operand.holding if operand else {}).items():
                attributes = dict(labels)
                key = tuple((k, attributes[k]) for k in group_by if k in attributes)
                groups[key] = max(groups.get(key, value), value)
            projected.append(groups)
        first, others = projected[0], projected[1:]
        if rule.combine == "and":
            return {k: v for k, v in first.items() if all(k in o for o in others)}
        if rule.combine == "unless":
            return {k: v for k, v in first.items() if not any(k in o for o in others)}
        merged: dict[Labels, float] = {}
        for groups in projected:
            for k, v in groups.items():
                merged.setdefault(k, v)
        return merged

    # -- state and events -------------------------------------------------------------------

    def _step_rule(self, run: _RuleRun, holding: Holding, now: float, events: list[AlertEvent]) -> None:
        rule = run.rule
        keyed: dict[str, tuple[dict[str, str], float]] = {}
        for group, value in holding.items():
            labels = self._labels(rule, group)
            keyed[fingerprint(labels)] = (labels, value)
        flap_changes = self._record_flaps(rule, keyed, run) if self._flap.enabled else {}
        for change in run.state.step(now, keyed):
            if self.on_change is not None:
                self.on_change(rule.name, change)
            if change.state == "pending":
                continue
            flap_key = (rule.name, change.key)
            history = self._flaps.get(flap_key)
            flapping = bool(history and history.flapping)
            if flapping:
                self._published[flap_key] = True
            events.append(self._event(rule, change.instance, change.state, change.key, now, flapping))
        for key, (flapping, history) in flap_changes.items():
            if not flapping and self._published.pop((rule.name, key), False):
                instance = run.state.instances.get(key)
                firing = instance is not None and instance.state == "firing"
                state: Literal["firing", "resolved"] = "firing" if firing else "resolved"
                shown = instance or Instance(history.labels, now, value=history.value)
                events.append(self._event(rule, shown, state, key, now, False))

    def _record_flaps(self, rule: AlertRule, keyed: dict[str, tuple[dict[str, str], float]],
                      run: _RuleRun) -> dict[str, tuple[bool, FlapHistory]]:  # fmt: skip
        changed: dict[str, tuple[bool, FlapHistory]] = {}
        keys = set(keyed) | set(run.state.instances) | {k for (r, k) in self._flaps if r == rule.name}
        for key in keys:
            history = self._flaps.setdefault((rule.name, key), FlapHistory(self._flap.history))
            if key in keyed:
                history.labels, history.value = keyed[key]
            flag = history.record(key in keyed, self._flap.high, self._flap.low)
            if flag is not None:
                changed[key] = (flag, history)
            if history.quiet and key not in run.state.instances:
                del self._flaps[(rule.name, key)]
        return changed

    def _labels(self, rule: AlertRule, group: Labels) -> dict[str, str]:
        labels = {"alertname": rule.name, **dict(group), "severity": rule.severity}
        labels.update(rule.labels)
        return labels

    def _event(self, rule: AlertRule, instance: Instance, state: Literal["firing", "resolved"], key: str,
               now: float, flapping: bool) -> AlertEvent:  # fmt: skip
        series = _series_of(rule, instance)
        return AlertTransition(
            at=now,
            rule=rule.name,
            series=series,
            state=state,
            value=instance.value,
            threshold=float(rule.threshold or 0.0),
            severity=rule.severity,
            active_since=instance.active_at,
            labels=dict(instance.labels),
            annotations=self.annotations(rule, instance),
            fingerprint=key,
            starts_at=instance.fired_at or instance.active_at,
            ends_at=now if state == "resolved" else None,
            flapping=flapping,
        )

    def annotations(self, rule: AlertRule, instance: Instance) -> dict[str, str]:
        """The rule's annotations rendered for ``instance`` (its labels and latest value)."""
        labels = {prometheus_label(k): v for k, v in instance.labels.items()}
        labels.update(instance.labels)
        rendered: dict[str, str] = {}
        for name, text in rule.annotations.items():
            try:
                rendered[name] = render(text, labels, instance.value)
            except TemplateError as error:
                rendered[name] = text
                if self.on_template_error is not None:
                    self.on_template_error(rule.name, name, str(error))
        return rendered


def _series_of(rule: AlertRule, instance: Instance) -> str:
    if rule.kind == "anomaly":
        return instance.labels.get("series", "")
    reserved = {"alertname", "severity", *rule.labels}
    group = tuple(sorted((k, v) for k, v in instance.labels.items() if k not in reserved))
    return series_name(rule.metric or rule.name, group)
