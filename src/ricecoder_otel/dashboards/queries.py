"""Evaluate dashboard queries against the embedded store, downsampled and bounded.

The window ``(end - range, end]`` is cut into at most ``max_points`` steps counted back from
``end``. The store returns one row per series per step (its last point; for gauges also the
step's average, minimum and maximum), computed in SQL, so a 7-day range costs a bounded number
of rows whatever the scrape interval was. For cumulative series only the points near each step's
two edges matter, so the store is asked for those alone: one ``(name, time_ns)`` index range
per step boundary, as wide as a few sampling intervals, so a read costs the same for 7 days as
for 1 hour. A dashboard's coarse windows (stat values, tables, sparklines) are derived from its
graph window's read: one read per metric. Cumulative series (counters, histograms) are turned
into per-step changes: ``rate`` per second, ``increase``, ``count`` (histogram observations) and
``p50``..``p99`` interpolated inside the histogram buckets of the step's change, the way
Prometheus' ``histogram_quantile`` does. A counter that goes down (a restart) starts over.

Plain Python on top of ``SqlStore``'s transaction helper: no OpenTelemetry imports.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ricecoder_otel.dashboards.model import QUANTILES, Panel, Query
from ricecoder_otel.store.sql import SqlStore, decode_json

MAX_POINTS = 720
"""Steps per series at most: a 7-day range of 10 s data becomes 14-minute steps."""
MAX_ROWS = 200_000
"""Rows one query may read; beyond it the result is marked truncated (oldest steps lost)."""
MIN_STEP_NS = 1_000_000_000
SERVICE = "service.name"

_ENDS_TAIL = """
SELECT m.time_ns, m.service_name, m.attributes, m.kind, m.unit, m.value, m.count, m.sum,
       m.bucket_bounds, m.bucket_counts, (? - m.time_ns) / CAST(? AS BIGINT) AS step
FROM metric_points m
WHERE m.id IN (SELECT first_id FROM ends UNION SELECT last_id FROM ends)
ORDER BY m.time_ns DESC LIMIT ?
"""
_ENDS_SQL = (
    """
WITH ends AS (
    SELECT MIN(id) AS first_id, MAX(id) AS last_id FROM metric_points
    WHERE name = ? AND time_ns > ? AND time_ns <= ?
    GROUP BY service_name, attributes, (? - time_ns) / CAST(? AS BIGINT)
)"""
    + _ENDS_TAIL
)
_EDGE_ENDS_SQL = (
    """
WITH RECURSIVE args(low, high, step, edge) AS (
    SELECT CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT)
), bounds(b) AS (
    SELECT high FROM args UNION ALL SELECT b - step FROM bounds, args WHERE b - step >= low
), near AS (
    SELECT CASE WHEN b - edge > low THEN b - edge ELSE low END AS lo,
           CASE WHEN b + edge < high THEN b + edge ELSE high END AS hi
    FROM bounds, args
), ends AS (
    SELECT MIN(m.id) AS first_id, MAX(m.id) AS last_id FROM near {join}
    GROUP BY m.service_name, m.attributes, (? - m.time_ns) / CAST(? AS BIGINT)
)"""
    + _ENDS_TAIL
)
"""The first and last point per series and step, read only near the step boundaries ``end - k * step``:
``(b - edge, b + edge]`` clipped to the window, each an index range."""
_NEAR_JOIN = "JOIN metric_points m ON m.name = ? AND m.time_ns > near.lo AND m.time_ns <= near.hi"
_NEAR_LATERAL = (  # PostgreSQL: LATERAL with OFFSET 0 (not flattened) keeps one index range per boundary
    "CROSS JOIN LATERAL (SELECT id, service_name, attributes, time_ns FROM metric_points"
    " WHERE name = ? AND time_ns > near.lo AND time_ns <= near.hi OFFSET 0) AS m"
)
_GAUGE_SQL = """
SELECT MAX(time_ns), service_name, attributes, MAX(kind), MAX(unit), AVG(value), MIN(value), MAX(value),
       (? - time_ns) / CAST(? AS BIGINT) AS step
FROM metric_points
WHERE name = ? AND time_ns > ? AND time_ns <= ?
GROUP BY service_name, attributes, (? - time_ns) / CAST(? AS BIGINT)
ORDER BY MAX(time_ns) DESC LIMIT ?
"""
_GAUGE_AGGREGATIONS = {"avg": 5, "min": 6, "max": 7}
_GAUGE_KINDS = ("gauge", "updowncounter")
_KIND_SQL = "SELECT kind FROM metric_points WHERE name = ? ORDER BY time_ns DESC LIMIT 1"
_NEWEST_SQL = "SELECT time_ns, service_name, attributes FROM metric_points WHERE name = ? ORDER BY time_ns DESC LIMIT ?"
NEWEST_SAMPLE = 512
"""Newest points read to estimate a metric's sampling interval."""
MIN_EDGE_NS = 120_000_000_000
"""Each step's edges read at least this wide: twice the SDK's default export interval."""
EDGE_INTERVALS = 4
"""Edges span this many sampling intervals, so a late or missed export still leaves a point in them."""


@dataclass(frozen=True)
class Window:
    """``(end_ns - steps * step_ns, end_ns]`` in ``steps`` steps; step 0 is the newest."""

    end_ns: int
    step_ns: int
    steps: int

    @classmethod
    def covering(
        cls, end_ns: int, range_ns: int, max_points: int = MAX_POINTS, min_step_ns: int = MIN_STEP_NS
    ) -> Window:
        step = max(min_step_ns, -(-range_ns // max(1, max_points)))
        step = -(-step // min_step_ns) * min_step_ns  # whole multiples: stable labels and caching
        return cls(end_ns=end_ns, step_ns=step, steps=max(1, -(-range_ns // step)))

    @property
    def start_ns(self) -> int:
        return self.end_ns - self.steps * self.step_ns

    def time_of(self, step: int) -> float:
        """Seconds since the epoch at the end of ``step`` (what a chart's x axis shows)."""
        return (self.end_ns - step * self.step_ns) / 1e9


@dataclass
class _Series:
    labels: dict[str, str]
    kind: str = ""
    unit: str = ""
    points: dict[int, list[tuple[Any, ...]]] = field(default_factory=dict)
    """step -> its rows, oldest first: the step's first and last point (gauges: one aggregate row)."""
    changes: dict[Window, dict[int, tuple[float, tuple[int, float, list[float], list[int]]]]] = field(
        default_factory=dict
    )
    """window -> step -> (seconds, histogram change): computed once, shared by every quantile and rate panel."""


@dataclass
class Evaluation:
    """What panels need besides their data: notes and the values each variable could take."""

    variable_attributes: Mapping[str, str] = field(default_factory=dict)
    """variable name -> attribute."""
    options: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    notes: list[str] = field(default_factory=list)

    def seen(self, labels: Mapping[str, str]) -> None:
        for name, attribute in self.variable_attributes.items():
            value = labels.get(attribute)
            if value is not None and len(self.options[name]) < 500:
                self.options[name].add(value)


class MetricSource:
    """Reads downsampled metric rows from a SQL store (SQLite or PostgreSQL)."""

    def __init__(
        self, store: SqlStore, *, max_rows: int = MAX_ROWS, base: Window | None = None, base_lookback: int = 1
    ) -> None:
        self.store = store
        self.max_rows = max_rows
        self.base = base
        """The finest window the caller will ask for (a dashboard's graphs): read first, the rest derived."""
        self.base_lookback = base_lookback
        """Earlier steps read with ``base`` (a sparkline's coarser steps need one more of theirs)."""
        self._kinds: dict[str, str] = {}
        self._edges: dict[str, int | None] = {}
        self._gaps: dict[str, int | None] = {}
        self._series: dict[tuple[str, Window, int, bool], tuple[list[_Series], bool]] = {}

    def kind_of(self, metric: str) -> str:
        """The kind the store holds for ``metric`` (its newest point), "" when it has none."""
        if metric not in self._kinds:
            with self.store._transaction() as cur:
                cur.execute(self.store._sql(_KIND_SQL), [metric])
                row = cur.fetchone()
            if row is None:
                return ""
            self._kinds[metric] = str(row[0])
        return self._kinds[metric]

    def series(self, metric: str, window: Window, aggregation: str, *, lookback: int = 1) -> tuple[list[_Series], bool]:
        """Every series of ``metric`` in ``window`` plus ``lookback`` earlier steps; and whether rows were cut."""
        kind = self.kind_of(metric)
        gauge = kind in _GAUGE_KINDS and (aggregation in _GAUGE_AGGREGATIONS or aggregation == "sum")
        key = (metric, window, lookback, gauge)
        fine, more = self.base, self.base_lookback
        if key not in self._series and fine is not None and not gauge and _covers(fine, more, window, lookback):
            base = (metric, fine, more, False)
            if base not in self._series:
                self._series[base] = self._read(metric, fine, more, False)
        if key not in self._series:
            self._series[key] = self._derived(key) or self._read(metric, window, lookback, gauge)
        return self._series[key]

    def edge_ns(self, metric: str) -> int | None:
        """How wide each step's edges are read for ``metric``: ``EDGE_INTERVALS`` times the longest gap
        between consecutive newest points of one series, at least ``MIN_EDGE_NS``; None when unknown."""
        if metric not in self._edges:
            with self.store._transaction() as cur:
                cur.execute(self.store._sql(_NEWEST_SQL), [metric, NEWEST_SAMPLE])
                rows = cur.fetchall()
            newest: dict[tuple[str, str], int] = {}
            gap = 0
            for time_ns, service, attributes in rows:
                key = (service, attributes if isinstance(attributes, str) else repr(attributes))
                if key in newest:
                    gap = max(gap, newest[key] - int(time_ns))
                newest[key] = int(time_ns)
            self._edges[metric] = max(MIN_EDGE_NS, EDGE_INTERVALS * gap) if gap else None
            self._gaps[metric] = gap or None
        return self._edges[metric]

    def interval_ns(self, metric: str) -> int | None:
        """The sampling interval of ``metric`` (the longest gap between one series' newest points), if known."""
        self.edge_ns(metric)
        return self._gaps[metric]

    def _derived(self, key: tuple[str, Window, int, bool]) -> tuple[list[_Series], bool] | None:
        """Coarser steps from finer ones already read (each step keeps its first and last point): one scan
        of the store serves a dashboard's graphs, tables and sparklines alike."""
        metric, coarse, lookback, gauge = key
        if gauge:
            return None
        for (name, fine, fine_lookback, fine_gauge), (series, truncated) in self._series.items():
            if name == metric and not fine_gauge and _covers(fine, fine_lookback, coarse, lookback):
                return [_rebucket(one, fine, coarse, lookback) for one in series], truncated
        return None

    def _read(self, metric: str, window: Window, lookback: int, gauge: bool) -> tuple[list[_Series], bool]:
        steps = window.steps + lookback
        low = window.end_ns - steps * window.step_ns
        if gauge:
            statement = _GAUGE_SQL
            params = [window.end_ns, window.step_ns, metric, low, window.end_ns, window.end_ns, window.step_ns]
        else:
            end, step, edge = window.end_ns, window.step_ns, self.edge_ns(metric)
            if edge is not None and 2 * edge < step:  # else every point is near an edge: read them all
                join = _NEAR_LATERAL if self.store.backend == "postgres" else _NEAR_JOIN
                statement = _EDGE_ENDS_SQL.replace("{join}", join)
                params = [low, end, step, edge, metric, end, step, end, step]
            else:
                statement = _ENDS_SQL
                params = [metric, low, end, end, step, end, step]
        with self.store._transaction() as cur:
            cur.execute(self.store._sql(statement), [*params, self.max_rows + 1])
            rows = cur.fetchall()
        truncated = len(rows) > self.max_rows
        by_key: dict[tuple[str, str], _Series] = {}
        decoded: dict[str, Any] = {}
        for row in rows[: self.max_rows]:
            key = (row[1], row[2] if isinstance(row[2], str) else repr(row[2]))
            series = by_key.get(key)
            if series is None:
                labels = {k: _text(v) for k, v in (decode_json(row[2]) or {}).items()}
                if row[1]:
                    labels[SERVICE] = row[1]
                series = by_key[key] = _Series(labels=labels, kind=row[3], unit=row[4])
            if not gauge:  # histogram buckets decoded once, whatever the number of panels reading them
                bounds = row[8]
                if isinstance(bounds, str):  # one boundary list per series, stored on every point
                    bounds = decoded.get(bounds) or decoded.setdefault(bounds, decode_json(bounds))
                row = (*row[:8], bounds, decode_json(row[9]), row[10])
            series.points.setdefault(int(row[-1]), []).insert(0, tuple(row))
        return list(by_key.values()), truncated


def _covers(fine: Window, fine_lookback: int, coarse: Window, lookback: int) -> bool:
    """Whether ``coarse`` plus ``lookback`` steps can be derived from a read of ``fine`` plus ``fine_lookback``."""
    return (
        fine.end_ns == coarse.end_ns and coarse.step_ns % fine.step_ns == 0
        and (coarse.steps + lookback) * coarse.step_ns <= (fine.steps + fine_lookback) * fine.step_ns
    )  # fmt: skip


def _rebucket(series: _Series, fine: Window, coarse: Window, lookback: int) -> _Series:
    points: dict[int, list[tuple[Any, ...]]] = {}
    limit = coarse.steps + lookback
    for step in sorted(series.points, reverse=True):  # oldest first
        target = step * fine.step_ns // coarse.step_ns
        if target < limit:
            points.setdefault(target, []).extend(series.points[step])
    ends = {k: [rows[0], rows[-1]] if len(rows) > 1 else rows for k, rows in points.items()}
    return _Series(labels=series.labels, kind=series.kind, unit=series.unit, points=ends)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def resolve_where(query: Query, variables: Mapping[str, str]) -> dict[str, str]:
    """``where`` with variables replaced; an empty or ``*`` value matches everything (dropped)."""
    return resolve_values(query.where, variables)


def resolve_values(values: Mapping[str, str], variables: Mapping[str, str]) -> dict[str, str]:
    """``values`` with ``$variable`` replaced by its value; empty or ``*`` values are dropped."""
    resolved = {}
    for key, value in values.items():
        actual = variables.get(value[1:], "") if value.startswith("$") else value
        if actual not in ("", "*"):
            resolved[key] = actual
    return resolved


def series_values(series: _Series, aggregation: str, window: Window, interval_ns: int | None = None) -> dict[int, Any]:
    """step -> value of one series (a bucket-change list for quantiles, combined later).

    ``interval_ns``: the metric's sampling interval, for rates of series seen only inside one step."""
    out: dict[int, Any] = {}
    if series.kind in _GAUGE_KINDS and (aggregation in _GAUGE_AGGREGATIONS or aggregation == "sum"):
        column = _GAUGE_AGGREGATIONS.get(aggregation, 5)
        return {s: rows[-1][column] for s, rows in series.points.items()
                if s < window.steps and rows[-1][column] is not None}  # fmt: skip
    if series.kind in _GAUGE_KINDS or (aggregation == "last" and series.kind != "histogram"):
        return {s: rows[-1][5] for s, rows in series.points.items() if s < window.steps and rows[-1][5] is not None}
    if series.kind == "histogram":
        for step, (seconds, (count, total, bounds, buckets)) in _histogram_changes(series, window, interval_ns).items():
            if aggregation in QUANTILES:
                out[step] = (bounds, buckets)
            elif aggregation == "rate":
                out[step] = count / seconds if seconds > 0 else None
            elif aggregation in ("increase", "count"):
                out[step] = count
            elif aggregation in ("avg", "last"):
                out[step] = (total, count)
        return out
    for step, before, now in _step_ends(series, window):
        seconds = _rate_seconds(window, step, before, now, interval_ns)
        if now[5] is not None and before[5] is not None:
            delta = now[5] - before[5] if now[5] >= before[5] else now[5]
            if aggregation == "rate":
                out[step] = delta / seconds if seconds > 0 else None
            elif aggregation in ("increase", "count"):
                out[step] = delta
    return out


def _step_ends(series: _Series, window: Window) -> list[tuple[int, tuple[Any, ...], tuple[Any, ...]]]:
    """(step, point before, last point) for each step of ``window`` that has a change to report.

    The point before is the last one of the nearest older step that has any: steps shorter than the
    sampling interval (a 1 h range of 10 s data has 5 s steps) hold a point only every few steps.
    """
    out = []
    previous = None
    for step in sorted(series.points, reverse=True):  # oldest first, lookback steps included
        rows = series.points[step]
        before = previous if previous is not None else (rows[0] if len(rows) > 1 else None)
        if before is not None and step < window.steps:
            out.append((step, before, rows[-1]))
        previous = rows[-1]
    return out[::-1]


def _rate_seconds(
    window: Window, step: int, before: tuple[Any, ...], now: tuple[Any, ...], interval_ns: int | None
) -> float:
    """The seconds a change is divided by for a per-second rate.

    Against an older step's point: the time between the two points. When both points are inside the
    step (the series is first seen there, as for every series of a stat's or table's whole-window step),
    Prometheus's rule for a range: the sampled span is extended to a step boundary the series reaches
    (within 1.1 sampling intervals), else by half an interval, and the change is spread over the whole
    step. A series that appeared a moment before the end of an hour is not a rate per that moment.
    """
    first, last = int(before[0]), int(now[0])
    sampled = last - first
    start, end = window.end_ns - (step + 1) * window.step_ns, window.end_ns - step * window.step_ns
    if first <= start or sampled <= 0:
        return sampled / 1e9
    interval = min(interval_ns, sampled) if interval_ns else sampled
    covered = float(sampled)
    for gap in (first - start, end - last):
        covered += gap if gap < 1.1 * interval else interval / 2
    return sampled / covered * window.step_ns / 1e9


def _histogram_changes(
    series: _Series, window: Window, interval_ns: int | None = None
) -> dict[int, tuple[float, tuple[int, float, list[float], list[int]]]]:
    if window not in series.changes:
        series.changes[window] = {
            step: (_rate_seconds(window, step, before, now, interval_ns), _histogram_change(before, now))
            for step, before, now in _step_ends(series, window)
        }
    return series.changes[window]


def _histogram_change(before: tuple[Any, ...], now: tuple[Any, ...]) -> tuple[int, float, list[float], list[int]]:
    bounds, counts = now[8] or [], now[9] or []
    old_bounds, old_counts = before[8] or [], before[9] or []
    count, total = int(now[6] or 0), float(now[7] or 0.0)
    if bounds == old_bounds and len(counts) == len(old_counts) and count >= int(before[6] or 0):
        return (count - int(before[6] or 0), total - float(before[7] or 0.0), bounds,
                [a - b for a, b in zip(counts, old_counts, strict=True)])  # fmt: skip
    return count, total, bounds, list(counts)  # a restart or new boundaries: start over


def quantile(q: float, bounds: list[float], counts: list[int]) -> float | None:
    """The ``q`` quantile of a bucketed distribution, interpolated inside its bucket.

    The lowest bucket starts at 0 (durations, sizes); a rank in the overflow bucket returns
    the highest finite boundary, as Prometheus does.
    """
    total = sum(counts)
    if total <= 0 or not counts:
        return None
    rank = q * total
    seen = 0
    for i, count in enumerate(counts):
        if count > 0 and seen + count >= rank:
            if i >= len(bounds):
                return bounds[-1] if bounds else None
            lower = bounds[i - 1] if i > 0 else min(0.0, bounds[0])
            return float(lower + (bounds[i] - lower) * (rank - seen) / count)
        seen += count
    return bounds[-1] if bounds else None


def _combine(aggregation: str, values: list[Any]) -> float | None:
    values = [v for v in values if v is not None]
    if not values:
        return None
    if aggregation in QUANTILES:
        bounds = values[0][0]
        merged = [0] * len(values[0][1])
        for b, counts in values:
            if b == bounds and len(counts) == len(merged):
                merged = [m + c for m, c in zip(merged, counts, strict=True)]
        return quantile(QUANTILES[aggregation], bounds, merged)
    if isinstance(values[0], tuple):  # histogram mean: total / count
        total, count = sum(v[0] for v in values), sum(v[1] for v in values)
        return total / count if count else None
    if aggregation == "min":
        return float(min(values))
    if aggregation == "max":
        return float(max(values))
    if aggregation == "avg":
        return float(sum(values) / len(values))
    return float(sum(values))


def label_of(query: Query, labels: Mapping[str, str]) -> str:
    """``query.label`` with ``{attribute}`` filled in; the metric and aggregation by default."""
    if not query.label:
        suffix = " ".join(f"{k}={labels[k]}" for k in query.group_by if k in labels)
        return f"{query.metric} {query.aggregation}" + (f" {suffix}" if suffix else "")
    text = query.label
    for key in query.group_by:
        text = text.replace("{" + key + "}", labels.get(key, ""))
    return text


@dataclass
class QueryResult:
    """Per group of ``group_by`` values: step -> value; plus the unit the store reported."""

    groups: dict[tuple[str, ...], dict[int, float | None]]
    unit: str
    truncated: bool


def run_query(
    source: MetricSource,
    query: Query,
    window: Window,
    variables: Mapping[str, str],
    evaluation: Evaluation,
    *,
    lookback: int = 1,
) -> QueryResult:
    """Evaluate ``query`` over ``window``: filter, aggregate per step, combine by ``group_by``."""
    wanted = resolve_where(query, variables)
    all_series, truncated = source.series(query.metric, window, query.aggregation, lookback=lookback)
    interval = source.interval_ns(query.metric) if query.aggregation == "rate" else None
    per_group: dict[tuple[str, ...], dict[int, list[Any]]] = defaultdict(lambda: defaultdict(list))
    unit = ""
    for series in all_series:
        evaluation.seen(series.labels)
        if any(series.labels.get(k) != v for k, v in wanted.items()):
            continue
        unit = unit or series.unit
        group = tuple(series.labels.get(k, "") for k in query.group_by)
        for step, value in series_values(series, query.aggregation, window, interval).items():
            per_group[group][step].append(value)
    groups = {g: {s: _combine(query.aggregation, vs) for s, vs in steps.items()} for g, steps in per_group.items()}
    if truncated:
        evaluation.notes.append(f"{query.metric}: more than {source.max_rows} rows; the oldest steps are left out")
    return QueryResult(groups=groups, unit=unit, truncated=truncated)


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


PanelData = dict[str, Any]


def graph_data(source: MetricSource, panel: Panel, window: Window, variables: Mapping[str, str],
               evaluation: Evaluation) -> PanelData:  # fmt: skip
    """Aligned series for a chart: one time axis (oldest first) and one value list per series."""
    steps = list(range(window.steps - 1, -1, -1))
    series = []
    for query in panel.queries:
        result = run_query(source, query, window, variables, evaluation)
        for group, values in sorted(result.groups.items()):
            labels = dict(zip(query.group_by, group, strict=True))
            series.append({"label": label_of(query, labels), "values": [_finite(values.get(s)) for s in steps]})
    used = [i for i, s in enumerate(steps) if any(row["values"][i] is not None for row in series)]
    return {
        "kind": "series",
        "times": [window.time_of(steps[i]) for i in used],
        "series": [{"label": row["label"], "values": [row["values"][i] for i in used]} for row in series],
        "step_seconds": window.step_ns / 1e9,
    }


def value_data(
    source: MetricSource,
    panel: Panel,
    window: Window,
    variables: Mapping[str, str],
    evaluation: Evaluation,
    sparkline: Window,
) -> PanelData:
    """A stat or gauge: the value over the whole window, the previous window's, and a sparkline."""
    query = panel.queries[0].model_copy(update={"group_by": []})
    span = window.steps * window.step_ns
    values = {}
    for index, end in enumerate((window.end_ns, window.end_ns - span)):
        whole = Window(end_ns=end, step_ns=span, steps=1)
        values[index] = run_query(source, query, whole, variables, evaluation, lookback=0).groups.get((), {}).get(0)
    line = graph_data(source, panel.model_copy(update={"queries": [query]}), sparkline, variables, evaluation)
    return {
        "kind": "value",
        "value": _finite(values[0]),
        "previous": _finite(values[1]),
        "times": line["times"],
        "values": line["series"][0]["values"] if line["series"] else [],
    }


def table_data(source: MetricSource, panel: Panel, window: Window, variables: Mapping[str, str],
               evaluation: Evaluation) -> PanelData:  # fmt: skip
    """One row per group, one column per query, each value over the whole window."""
    whole = Window(end_ns=window.end_ns, step_ns=window.steps * window.step_ns, steps=1)
    keys = list(dict.fromkeys(k for q in panel.queries for k in q.group_by))
    rows: dict[tuple[str, ...], dict[int, float | None]] = defaultdict(dict)
    for i, query in enumerate(panel.queries):
        result = run_query(source, query, whole, variables, evaluation, lookback=0)
        for group, values in result.groups.items():
            labels = dict(zip(query.group_by, group, strict=True))
            rows[tuple(labels.get(k, "") for k in keys)][i] = _finite(values.get(0))
    columns = [*keys, *(q.label or f"{q.metric} {q.aggregation}" for q in panel.queries)]
    body = [[*key, *(cells.get(i) for i in range(len(panel.queries)))] for key, cells in sorted(rows.items())]
    return {"kind": "table", "columns": columns, "key_columns": len(keys), "rows": body[: panel.limit]}


def heatmap_data(source: MetricSource, panel: Panel, window: Window, variables: Mapping[str, str],
                 evaluation: Evaluation) -> PanelData:  # fmt: skip
    """Observations per histogram bucket per step (oldest first), summed over the matching series."""
    query = panel.queries[0]
    wanted = resolve_where(query, variables)
    all_series, _ = source.series(query.metric, window, "p50")
    cells: dict[int, list[int]] = {}
    bounds: list[float] = []
    for series in all_series:
        evaluation.seen(series.labels)
        if series.kind != "histogram" or any(series.labels.get(k) != v for k, v in wanted.items()):
            continue
        for step, (b, counts) in series_values(series, "p50", window).items():
            if bounds and b != bounds:
                continue
            bounds = b
            cells[step] = [x + y for x, y in zip(cells.get(step, [0] * len(counts)), counts, strict=True)]
    steps = sorted(cells, reverse=True)
    return {"kind": "heatmap", "times": [window.time_of(s) for s in steps], "bounds": bounds,
            "counts": [cells[s] for s in steps]}  # fmt: skip


def events_data(store: SqlStore, panel: Panel, window: Window, variables: Mapping[str, str],
                service_variable: str | None) -> PanelData:  # fmt: skip
    """The newest events of the panel's names in the window (``query_logs(event_name=...)``)."""
    service = variables.get(service_variable, "") if service_variable else ""
    rows: list[dict[str, Any]] = []
    for name in panel.events:
        for row in store.query_logs(since_ns=window.start_ns + 1, event_name=name, limit=panel.limit * 4):
            if row.time_ns > window.end_ns or (service not in ("", "*") and row.service_name != service):
                continue
            rows.append({
                "time": row.time_ns / 1e9, "event": row.event_name, "severity": row.severity_text,
                "body": row.body, "service": row.service_name,
                "attributes": {k: _text(v) for k, v in sorted(row.attributes.items())},
            })  # fmt: skip
    rows.sort(key=lambda r: r["time"], reverse=True)
    return {"kind": "events", "rows": rows[: panel.limit]}
