"""Export rules as a Prometheus rule file, with the names Prometheus stores for our metrics.

Names follow the OpenTelemetry-to-Prometheus translation: dots become underscores, the unit is
appended (``s`` -> ``_seconds``, ``{...}`` adds nothing), counters end in ``_total``, histograms
are ``_bucket{le}``/``_sum``/``_count``. Unit ``1`` depends on the path (:data:`PATHS`): the
collector's ``prometheus`` and ``prometheus_remote_write`` exporters name a gauge with unit ``1``
``<name>_ratio``; the Python SDK's Prometheus exporter (the app's own ``/metrics``) appends
nothing. Both were read from the real exporters (tests/integration/alerting_rules). That needs
each metric's kind and unit: :data:`KNOWN_METRICS` lists the ones the distribution records,
``metrics=`` adds the application's own; a rule on another metric is skipped with the reason.
Annotations are copied verbatim (the same templates render here and in Prometheus).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ricecoder_otel.alerting.rules import prometheus_label
from ricecoder_otel.config import AlertRule
from ricecoder_otel.config.duration import format_duration
from ricecoder_otel.kernel import names

ExportKind = Literal["gauge", "updowncounter", "counter", "histogram"]
"""A metric's kind as the exporters see it: an UpDownCounter is a gauge in Prometheus but not
a ``Gauge`` to the collector's naming (it gets no ``_ratio``)."""
Known = Mapping[str, tuple[ExportKind, str]]
MetricPath = Literal["scrape", "collector"]
PATHS: tuple[MetricPath, ...] = ("scrape", "collector")
"""``scrape``: Prometheus scrapes the app (``OTEL_METRICS_EXPORTER=prometheus``); ``collector``:
OTLP to the collector, whose ``prometheus`` or ``prometheus_remote_write`` exporter stores it."""

KNOWN_METRICS: dict[str, tuple[ExportKind, str]] = {m.name: (m.kind, m.unit) for m in names.KNOWN_METRICS.values()}
"""Kind and unit of the metrics the distribution records (the catalogue in :mod:`ricecoder_otel.kernel.names`)."""

_UNITS = {
    "s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds", "By": "bytes",
    "KiBy": "kibibytes", "MiBy": "mebibytes", "min": "minutes", "h": "hours", "d": "days", "%": "percent",
}  # fmt: skip


class Unsupported(ValueError):
    """A rule Prometheus cannot express; the message is the reason."""


def prometheus_name(metric: str, kind: ExportKind, unit: str, path: MetricPath = "scrape") -> str:
    """The stored name (histograms: the base of ``_bucket``/``_sum``/``_count``) on ``path``."""
    name = re.sub(r"[^a-zA-Z0-9:]+", "_", metric)
    if name[:1].isdigit():
        name = "_" + name[1:]
    suffix = _UNITS.get(re.sub(r"\{.*\}", "", unit), re.sub(r"[^a-zA-Z0-9]+", "_", re.sub(r"\{.*\}", "", unit)))
    if suffix == "1":
        suffix = "ratio" if path == "collector" and kind == "gauge" else ""
    suffix = suffix.strip("_")
    if suffix and not name.endswith("_" + suffix):
        name += "_" + suffix
    return name + "_total" if kind == "counter" and not name.endswith("_total") else name


@dataclass(frozen=True)
class Export:
    document: dict[str, Any]
    skipped: list[tuple[str, str]]


def export(rules: list[AlertRule], group: str = "ricecoder", metrics: Known | None = None,
           path: MetricPath = "scrape") -> Export:  # fmt: skip
    """A rule-file document (``groups:``) and the rules left out, with the reason for each.

    ``metrics`` adds the kind and unit of the application's own metrics to :data:`KNOWN_METRICS`;
    ``path`` is how the metrics reach Prometheus (:data:`PATHS`).
    """
    known = _Names({**KNOWN_METRICS, **(metrics or {})}, path)
    exported: list[dict[str, Any]] = []
    skipped: list[tuple[str, str]] = []
    for rule in rules:
        if not rule.enabled:
            continue
        try:
            expr = _expression(rule, known)
        except Unsupported as reason:
            skipped.append((rule.name, str(reason)))
            continue
        item: dict[str, Any] = {"alert": rule.name, "expr": expr}
        if rule.for_.total_seconds():
            item["for"] = format_duration(rule.for_)
        if rule.keep_firing_for.total_seconds():
            item["keep_firing_for"] = format_duration(rule.keep_firing_for)
        item["labels"] = {"severity": rule.severity, **rule.labels}
        if rule.annotations:
            item["annotations"] = dict(rule.annotations)
        exported.append(item)
    return Export({"groups": [{"name": group, "rules": exported}]}, skipped)


@dataclass(frozen=True)
class _Names:
    """The known metrics and the path: what decides each stored name."""

    known: Known
    path: MetricPath


def _metric(name: str, metrics: _Names) -> tuple[Literal["gauge", "counter", "histogram"], str]:
    known = metrics.known.get(name)
    if known is None:
        raise Unsupported(f"unknown metric '{name}': its kind and unit decide its Prometheus name")
    kind, unit = known
    return ("gauge" if kind == "updowncounter" else kind), prometheus_name(name, kind, unit, metrics.path)


def _selector(name: str, rule: AlertRule) -> str:
    matchers = ",".join(f'{prometheus_label(k)}="{_quote(v)}"' for k, v in sorted(rule.match.items()))
    return f"{name}{{{matchers}}}" if matchers else name


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _by(rule: AlertRule, whole: bool = False, extra: str = "") -> str | None:
    labels = rule.group_by if rule.group_by is not None else ([] if whole else None)
    if labels is None:
        return None
    names = [extra] if extra else []
    names += [prometheus_label(k) for k in labels]
    return f"by ({', '.join(names)})"


def _window(rule: AlertRule, seconds: float | None = None) -> str:
    return format_duration(rule.window) if seconds is None else f"{int(seconds)}s"


def _threshold(rule: AlertRule) -> str:
    return f" {rule.operator} {rule.threshold!r}"


def _expression(rule: AlertRule, known: _Names) -> str:
    """The PromQL of one rule, or :class:`Unsupported`."""
    if rule.kind == "threshold":
        return _aggregate(rule, known) + _threshold(rule)
    if rule.kind == "rate":
        kind, name = _metric(rule.metric, known)
        window = _window(rule)
        seconds = rule.window.total_seconds()
        inner = (f"rate({_selector(name, rule)}[{window}])" if kind == "counter"
                 else f"delta({_selector(name, rule)}[{window}]) / {seconds!r}")  # fmt: skip
        if kind == "histogram":
            raise Unsupported("`rate` of change applies to gauges and counters")
        by = _by(rule)
        return (f"sum {by} ({inner})" if by else inner) + _threshold(rule)
    if rule.kind == "error_ratio":
        return f"({_ratio(rule, _window(rule), known)}){_threshold(rule)}"
    if rule.kind == "burn_rate":
        budget = 1 - float(rule.objective or 0.0)
        pairs = []
        for pair in rule.burn_windows:
            long_w, short_w = format_duration(pair.long), format_duration(pair.short)
            clause = (f"({_ratio(rule, long_w, known)}) / {budget!r} > {pair.factor!r}"
                      f" and ({_ratio(rule, short_w, known)}) / {budget!r} > {pair.factor!r}")  # fmt: skip
            if rule.min_events:
                clause += f" and {_increase(rule, rule.total_metric, long_w, known)} >= {rule.min_events!r}"
            pairs.append(f"({clause})")
        return " or ".join(pairs)
    if rule.kind == "anomaly":
        pattern = re.escape(rule.metric).replace("\\", "\\\\") + "(\\\\{.*)?"
        score = _metric(names.ANOMALY_SCORE, known)[1]
        return f'{score}{{ricecoder_anomaly_series=~"{pattern}"}}{_threshold(rule)}'
    if rule.kind == "absence":
        raise Unsupported("in-process absence counts new measurements; Prometheus sees a flat cumulative "
                          "series as present")  # fmt: skip
    raise Unsupported("composite rules combine in-process conditions; write the PromQL `and`/`or` by hand")


def _aggregate(rule: AlertRule, known: _Names) -> str:
    kind, name = _metric(rule.metric, known)
    aggregation = rule.aggregation or ("last" if kind == "gauge" else "rate")
    window, selector, by = _window(rule), _selector(name, rule), _by(rule)
    if kind == "histogram":
        if aggregation == "quantile":
            le_by = _by(rule, extra="le") if by else None
            inner = f"rate({_selector(name + '_bucket', rule)}[{window}])"
            return f"histogram_quantile({rule.quantile!r}, {f'sum {le_by} ({inner})' if le_by else inner})"
        if aggregation == "avg":
            s = f"rate({_selector(name + '_sum', rule)}[{window}])"
            c = f"rate({_selector(name + '_count', rule)}[{window}])"
            return f"(sum {by} ({s}) / sum {by} ({c}))" if by else f"({s} / {c})"
        function = "rate" if aggregation == "rate" else "increase"
        series = name + ("_sum" if aggregation == "sum" else "_count")
        inner = f"{function}({_selector(series, rule)}[{window}])"
        return f"sum {by} ({inner})" if by else inner
    if kind == "counter":
        function = "rate" if aggregation == "rate" else "increase"
        inner = selector if aggregation == "last" else f"{function}({selector}[{window}])"
        return f"sum {by} ({inner})" if by else inner
    if aggregation in ("rate", "increase", "quantile"):
        raise Unsupported(f"aggregation {aggregation} needs a counter or histogram; {rule.metric} is a gauge")
    inner = selector if aggregation == "last" else f"{aggregation}_over_time({selector}[{window}])"
    outer = {"last": "sum", "avg": "avg", "min": "min", "max": "max", "sum": "sum", "count": "sum"}[aggregation]
    return f"{outer} {by} ({inner})" if by else inner


def _increase(rule: AlertRule, metric: str, window: str, known: _Names) -> str:
    kind, name = _metric(metric, known)
    series = name + "_count" if kind == "histogram" else name
    if kind == "gauge":
        raise Unsupported(f"{metric} is a gauge; ratios need counters or histograms")
    return f"sum {_by(rule, whole=True)} (increase({_selector(series, rule)}[{window}]))"


def _ratio(rule: AlertRule, window: str, known: _Names) -> str:
    errors, total = _increase(rule, rule.metric, window, known), _increase(rule, rule.total_metric, window, known)
    return f"{errors} / {total}"
