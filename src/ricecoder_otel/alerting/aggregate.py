"""Window aggregations over :mod:`series` rings, with PromQL's arithmetic where one exists.

A rule's value for one alert instance is computed in two steps: a *partial* per series (an
increase, a histogram's bucket increases, a gauge's value over the window), then the partials
of the instance's series are combined (summed, or min/max/avg for gauges) and finished
(``rate`` divides by the window, ``quantile`` interpolates like ``histogram_quantile``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from ricecoder_otel.alerting.series import Hist, MetricKind, Series, Value


def histogram_quantile(q: float, bounds: tuple[float, ...], counts: tuple[float, ...]) -> float:
    """Prometheus' ``histogram_quantile`` on per-bucket counts (the last bucket is +Inf)."""
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    total = sum(counts)
    if total <= 0 or math.isnan(total):
        return math.nan
    rank = q * total
    cumulative = 0.0
    for i, count in enumerate(counts):
        before = cumulative
        cumulative += count
        if cumulative >= rank:
            if i == len(bounds):  # the +Inf bucket: the highest finite bound
                return bounds[-1] if bounds else math.nan
            upper = bounds[i]
            if i == 0 and upper <= 0:
                return upper
            lower = 0.0 if i == 0 else bounds[i - 1]
            if count == 0:
                return upper
            return lower + (upper - lower) * ((rank - before) / count)
    return bounds[-1] if bounds else math.nan


def increase(series: Series, window: float, now: float) -> Value | None:
    """Growth of a counter or histogram over ``(now - window, now]`` (exact, reset-adjusted)."""
    start = series.value_at(window, now - window)
    if start is None:
        return None
    latest = series.latest
    if isinstance(latest, Hist) and isinstance(start, Hist):
        return latest.minus(start) if latest.bounds == start.bounds else None
    if isinstance(latest, float) and isinstance(start, float):
        return latest - start
    return None


def gauge_over_time(series: Series, aggregation: str, window: float, now: float) -> float | None:
    """``<aggregation>_over_time`` of a gauge's samples in ``[now - window, now]``; ``last`` is the latest."""
    if aggregation == "last":  # only a series reported in this collection has a current value
        return series.latest if isinstance(series.latest, float) and series.seen_at >= now else None
    ring = series.ring(window)
    if aggregation in ("min", "max"):
        slots = list(ring.since(now - window))
        if not slots:
            return None
        return min(s.lo for s in slots) if aggregation == "min" else max(s.hi for s in slots)
    total, n = ring.sum_count(now - window)  # running sums: no walk over the window
    if n == 0:
        return None
    return {"avg": total / n, "sum": total, "count": float(n)}.get(aggregation)


def change_rate(series: Series, window: float, now: float) -> float | None:
    """Per-second change over the window (gauges: last minus first; counters: their rate)."""
    start = series.value_at(window, now - window)
    if not isinstance(start, float) or not isinstance(series.latest, float):
        return None
    return (series.latest - start) / window


def default_aggregation(kind: MetricKind) -> str:
    return "last" if kind == "gauge" else "rate"


def partial(series: Series, aggregation: str, window: float, now: float) -> Value | None:
    """What one series contributes to its instance's value."""
    if series.kind == "gauge":
        return gauge_over_time(series, aggregation, window, now)
    if aggregation == "last":
        return series.latest
    return increase(series, window, now)


def combine(kind: MetricKind, aggregation: str, parts: Iterable[Value]) -> Value | None:
    """Combine the partials of one instance's series."""
    values = list(parts)
    if not values:
        return None
    if kind == "histogram" and aggregation != "last":
        hists = [v for v in values if isinstance(v, Hist)]
        result = hists[0]
        for other in hists[1:]:
            if other.bounds == result.bounds:
                result = result.plus(other)
        return result
    numbers = [v for v in values if isinstance(v, float)]
    if kind == "gauge" and aggregation in ("avg", "min", "max"):
        return {"avg": sum(numbers) / len(numbers), "min": min(numbers), "max": max(numbers)}[aggregation]
    return float(sum(numbers))


def finish(kind: MetricKind, aggregation: str, combined: Value, window: float, q: float | None) -> float | None:
    """The instance's value from its combined partial."""
    if isinstance(combined, Hist):
        if aggregation == "quantile" and q is not None:  # on per-second rates, as PromQL does (same rounding)
            value = histogram_quantile(q, combined.bounds, tuple(c / window for c in combined.counts))
        elif aggregation == "avg":
            value = combined.sum / combined.count if combined.count else math.nan
        elif aggregation == "sum":
            value = combined.sum
        elif aggregation in ("count", "increase"):
            value = combined.count
        else:  # rate
            value = combined.count / window
        return None if math.isnan(value) else value
    if kind == "counter" and aggregation == "rate":
        return combined / window
    return combined
