"""RED aggregation in plain Python: O(1) per request, no SDK instrument on the hot path.

Recording a value into an SDK histogram costs about as much as creating the span
itself (attribute cleaning, a frozenset key, exemplar sampling). The aggregator
keeps one explicit-bucket histogram and one error count per series instead; the
adapter in :mod:`ricecoder_otel.metrics.red_export` turns a snapshot into
standard OpenTelemetry metric data at each collection.
"""

from __future__ import annotations

import threading
import time
from bisect import bisect_left
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ricecoder_otel.kernel import names
from ricecoder_otel.metrics.cardinality import CardinalityLimiter
from ricecoder_otel.metrics.red import DEFAULT_DURATION_BUCKETS, red_series

DURATION_METRIC = names.REQUEST_DURATION
ERRORS_METRIC = names.SERVER_ERRORS

# trace id, span id, value (s), time (ns): the last sampled request seen in a bucket.
Exemplar = tuple[int, int, float, int]


class _Series:
    __slots__ = ("attributes", "count", "counts", "errors", "exemplars", "max", "min", "sum")

    def __init__(self, attributes: Mapping[str, Any], buckets: int) -> None:
        self.attributes = dict(attributes)
        self.counts = [0] * buckets
        self.exemplars: list[Exemplar | None] = [None] * buckets
        self.count = 0
        self.sum = 0.0
        self.min = float("inf")
        self.max = float("-inf")
        self.errors = 0


@dataclass(frozen=True, slots=True)
class SeriesSnapshot:
    """Cumulative state of one series since ``RedAggregator.start_time_ns``."""

    attributes: dict[str, Any]
    bucket_counts: tuple[int, ...]
    count: int
    sum: float
    min: float
    max: float
    errors: int
    exemplars: tuple[Exemplar | None, ...]


class RedAggregator:
    """Duration histograms and error counts per (route, method, status) series."""

    def __init__(
        self,
        limiter: CardinalityLimiter,
        bounds: tuple[float, ...] = DEFAULT_DURATION_BUCKETS,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.bounds = tuple(bounds)
        self._limiter = limiter
        self._series: dict[tuple[Any, ...], _Series] = {}
        # Raw request shape -> (series, is_error). Bounded (16 shapes per admitted series):
        # past the bound, shapes are resolved each time (still correct, just slower).
        self._shapes: dict[tuple[Any, ...], tuple[_Series, bool]] = {}
        self._lock = threading.Lock()
        self.start_time_ns = clock_ns()

    def record(
        self,
        name: str,
        attributes: Mapping[str, Any],
        start_ns: int,
        end_ns: int,
        failed: bool,
        trace_id: int = 0,
        span_id: int = 0,
    ) -> None:
        """Add one finished server request; O(1).

        ``trace_id``/``span_id`` (0: not sampled) may become the bucket's exemplar;
        it is refreshed every eighth request of the series to keep allocations low.
        """
        get = attributes.get  # one lookup: span attributes are a Python-level mapping
        shape = (
            name,
            get("http.route"),
            get("http.request.method") or get("http.method"),
            get("http.response.status_code") or get("http.status_code"),
            failed,
        )
        duration_s = (end_ns - start_ns) / 1e9 if end_ns > start_ns else 0.0
        index = bisect_left(self.bounds, duration_s)
        # acquire/release rather than ``with``: the context manager's __enter__/__exit__ calls cost
        # about as much again as the lock itself, on the application thread, for every request.
        lock = self._lock
        lock.acquire()
        try:
            resolved = self._shapes.get(shape)
            if resolved is None:
                resolved = self._resolve(name, attributes, failed)
                if len(self._shapes) < 16 * self._limiter.limit:
                    self._shapes[shape] = resolved
            series, is_error = resolved
            series.counts[index] += 1
            count = series.count = series.count + 1
            series.sum += duration_s
            if duration_s < series.min:
                series.min = duration_s
            if duration_s > series.max:
                series.max = duration_s
            if is_error:
                series.errors += 1
            if trace_id and (count & 7 == 1 or series.exemplars[index] is None):
                series.exemplars[index] = (trace_id, span_id, duration_s, end_ns)
        finally:
            lock.release()

    def _resolve(self, name: str, attributes: Mapping[str, Any], failed: bool) -> tuple[_Series, bool]:
        sample = red_series(name, attributes, failed)
        admitted = self._limiter.admit(DURATION_METRIC, sample.attributes)
        key = tuple(sorted(admitted.items()))
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = _Series(admitted, len(self.bounds) + 1)
        return series, sample.is_error

    def snapshot(self) -> list[SeriesSnapshot]:
        with self._lock:
            return [
                SeriesSnapshot(
                    attributes=s.attributes,
                    bucket_counts=tuple(s.counts),
                    count=s.count,
                    sum=s.sum,
                    min=s.min,
                    max=s.max,
                    errors=s.errors,
                    exemplars=tuple(s.exemplars),
                )
                for s in self._series.values()
                if s.count
            ]
