"""Per-series windows of exact in-process values, in bounded rings.

Each evaluation hands the store a snapshot: for every metric a rule reads, the current value of
each series (attribute set). Counters and histograms are cumulative; a counter reset (a value
that went down) is folded in, so stored values only grow and ``increase`` needs two of them.

Memory bound: a series keeps one ring per distinct window its rules use, of ``SLOTS + 2`` slots;
a slot covers ``window / SLOTS`` seconds, so windows are exact up to 1/SLOTS of their length,
and exact when evaluations are at least ``window / SLOTS`` apart (a 1m window at 1 s). A gauge
slot keeps last/min/max/sum/count of its samples; counters and histograms
keep their last (reset-adjusted) value. Series with no new sample for longer than their longest
window are dropped. Plain Python, no OpenTelemetry imports.
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

Labels = tuple[tuple[str, str], ...]
MetricKind = Literal["gauge", "counter", "histogram"]
SLOTS = 60


@dataclass(frozen=True, slots=True)
class Hist:
    """A cumulative histogram value: OpenTelemetry layout, ``len(counts) == len(bounds) + 1``."""

    count: float
    sum: float
    bounds: tuple[float, ...]
    counts: tuple[float, ...]

    def minus(self, other: Hist) -> Hist:
        return Hist(self.count - other.count, self.sum - other.sum, self.bounds,
                    tuple(a - b for a, b in zip(self.counts, other.counts, strict=True)))  # fmt: skip

    def plus(self, other: Hist) -> Hist:
        return Hist(self.count + other.count, self.sum + other.sum, self.bounds,
                    tuple(a + b for a, b in zip(self.counts, other.counts, strict=True)))  # fmt: skip


Value = float | Hist


@dataclass(frozen=True)
class MetricSnapshot:
    """One metric at one evaluation: its kind and the current value of each series."""

    kind: MetricKind
    series: Mapping[Labels, Value]


def labels_of(attributes: Mapping[str, object]) -> Labels:
    """Sorted ``(key, value)`` pairs with values as text: the identity of a series."""
    return tuple(sorted((str(k), _text(v)) for k, v in attributes.items()))


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class _Slot:
    """Samples of one slot; ``cum_total``/``cum_n`` are running sums up to its last sample."""

    __slots__ = ("cum_n", "cum_total", "hi", "last", "lo", "n", "start", "t", "total")

    def __init__(self, start: float, t: float, value: Value, cum_total: float, cum_n: int) -> None:
        self.start, self.t, self.last = start, t, value
        number = value if isinstance(value, float) else 0.0
        self.lo = self.hi = self.total = number
        self.n = 1
        self.cum_total, self.cum_n = cum_total + number, cum_n + 1

    def add(self, t: float, value: Value) -> None:
        self.t, self.last = t, value
        if isinstance(value, float):
            self.lo, self.hi = min(self.lo, value), max(self.hi, value)
            self.total += value
            self.n += 1
            self.cum_total += value
            self.cum_n += 1


class _Ring:
    """Slots of ``resolution`` seconds covering at least ``window`` seconds."""

    __slots__ = ("resolution", "slots", "times")

    def __init__(self, window: float) -> None:
        self.resolution = window / SLOTS
        capacity = SLOTS + 2
        self.slots: deque[_Slot] = deque(maxlen=capacity)
        self.times: deque[float] = deque(maxlen=capacity)

    def add(self, t: float, value: Value) -> None:
        start = math.floor(t / self.resolution) * self.resolution
        if self.slots and self.slots[-1].start == start:
            self.slots[-1].add(t, value)
            self.times[-1] = t
        else:
            last = self.slots[-1] if self.slots else None
            cum_total, cum_n = (last.cum_total, last.cum_n) if last else (0.0, 0)
            self.slots.append(_Slot(start, t, value, cum_total, cum_n))
            self.times.append(t)

    def at_or_before(self, t: float) -> Value | None:
        """The value of the newest sample at or before ``t``; the oldest one if all are later."""
        if not self.slots:
            return None
        i = bisect.bisect_right(self.times, t)
        return self.slots[max(i - 1, 0)].last

    def sum_count(self, t: float) -> tuple[float, int]:
        """Sum and number of the samples in slots whose last sample is at or after ``t`` (O(log n))."""
        if not self.slots:
            return 0.0, 0
        i = bisect.bisect_left(self.times, t)
        if i >= len(self.slots):
            return 0.0, 0
        first, last = self.slots[i], self.slots[-1]
        base_total, base_n = first.cum_total - first.total, first.cum_n - first.n
        return last.cum_total - base_total, last.cum_n - base_n

    def since(self, t: float) -> Iterable[_Slot]:
        """Slots whose last sample is at or after ``t``, newest first."""
        for slot in reversed(self.slots):
            if slot.t < t:
                return
            yield slot


@dataclass
class Series:
    """One attribute set of one metric: reset-adjusted value, rings, and when data last came."""

    kind: MetricKind
    labels: Labels
    rings: dict[float, _Ring]
    latest: Value = 0.0
    raw: Value = 0.0
    offset: Value = 0.0
    changed_at: float = 0.0
    seen_at: float = 0.0

    def ring(self, window: float) -> _Ring:
        ring = self.rings.get(window)
        if ring is None:  # a window no rule declared: use the widest one
            ring = self.rings[max(self.rings)]
        return ring

    def value_at(self, window: float, t: float) -> Value | None:
        return self.ring(window).at_or_before(t)


@dataclass
class SeriesStore:
    """The windows of every series of the metrics the rules read."""

    step: float = 1.0
    windows: dict[str, set[float]] = field(default_factory=dict)
    metrics: dict[str, dict[Labels, Series]] = field(default_factory=dict)
    kinds: dict[str, MetricKind] = field(default_factory=dict)
    last_observed: float | None = None
    started: float | None = None

    def need(self, windows: Mapping[str, set[float]], step: float) -> None:
        """Declare the windows per metric (from the rules). A metric whose windows changed starts
        over; series of metrics no rule reads are dropped."""
        if step != self.step:
            self.metrics = {}
        self.metrics = {m: s for m, s in self.metrics.items() if self.windows.get(m) == windows.get(m)}
        self.windows = {m: set(w) for m, w in windows.items()}
        self.step = step

    def observe(self, now: float, snapshot: Mapping[str, MetricSnapshot]) -> None:
        """Add one evaluation's values. Counters and histograms are cumulative since the process
        started, so a new series was zero at the previous evaluation (one step ago at the first)."""
        if self.started is None:
            self.started = now
        previous = self.last_observed
        for metric, windows in self.windows.items():
            data = snapshot.get(metric)
            if data is None:
                continue
            self.kinds[metric] = data.kind
            series_map = self.metrics.setdefault(metric, {})
            for labels, given in data.series.items():
                value: Value = given if isinstance(given, Hist) else float(given)
                series = series_map.get(labels)
                if series is None:
                    series = series_map[labels] = Series(data.kind, labels, self._rings(windows))
                    if data.kind != "gauge":  # cumulative since the process (and this store) started
                        zero = _zero(value)
                        series.raw = series.latest = zero
                        series.offset = _zero(value)
                        for ring in series.rings.values():
                            ring.add(previous if previous is not None else now - self.step, zero)
                self._add(series, now, value)
        self.last_observed = now
        self._prune(now)

    def _rings(self, windows: set[float]) -> dict[float, _Ring]:
        return {w: _Ring(w) for w in sorted(windows)} or {self.step: _Ring(self.step)}

    def _add(self, series: Series, now: float, value: Value) -> None:
        series.seen_at = now
        if series.kind == "gauge" or not isinstance(value, type(series.raw)):
            adjusted = value
            series.offset = _zero(value)
        else:
            if _decreased(value, series.raw):  # a reset: keep counting from the last value
                series.offset = _add(series.offset, series.raw)
            adjusted = _add(value, series.offset)
        if series.kind != "gauge" and _count(adjusted) != _count(series.latest):
            series.changed_at = now
        series.raw, series.latest = value, adjusted
        for ring in series.rings.values():
            ring.add(now, adjusted)

    def _prune(self, now: float) -> None:
        for metric, series_map in self.metrics.items():
            horizon = max(self.windows.get(metric) or {self.step}) + 2 * self.step
            stale = [k for k, s in series_map.items() if now - s.seen_at > horizon]
            for key in stale:
                del series_map[key]

    def series(self, metric: str) -> Mapping[Labels, Series]:
        return self.metrics.get(metric, {})

    def size(self) -> int:
        return sum(len(s) for s in self.metrics.values())


def _zero(value: Value) -> Value:
    if isinstance(value, Hist):
        return Hist(0.0, 0.0, value.bounds, tuple(0.0 for _ in value.counts))
    return 0.0


def _add(a: Value, b: Value) -> Value:
    if isinstance(a, Hist) and isinstance(b, Hist) and a.bounds == b.bounds:
        return a.plus(b)
    if isinstance(a, float) and isinstance(b, float):
        return a + b
    return a


def _count(value: Value) -> float:
    return value.count if isinstance(value, Hist) else value


def _decreased(value: Value, before: Value) -> bool:
    if isinstance(value, Hist) and isinstance(before, Hist):
        return value.count < before.count or value.bounds != before.bounds
    return _count(value) < _count(before)
