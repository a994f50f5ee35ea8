"""Anomaly episodes: one record per incident, not one alarm per point.

A detector reports an episode twice: when it opens (``end is None``, so an on-call
person hears about it early) and when it closes (final kind, peak and end). Both
reports are immutable snapshots, so consumers can keep them without copying.
"""

from __future__ import annotations

from dataclasses import dataclass

SPIKE = "spike"
DIP = "dip"
LEVEL_SHIFT = "level_shift"
VARIANCE_CHANGE = "variance_change"
TREND = "trend"
STUCK = "stuck"  # the same reading repeated far longer than the series ever repeats

KINDS: tuple[str, ...] = (SPIKE, DIP, LEVEL_SHIFT, VARIANCE_CHANGE, TREND, STUCK)


@dataclass(frozen=True, slots=True)
class Exemplar:
    """A request behind a point: its trace and span (hex) and when it was measured (epoch ns).

    ``span_id`` and ``time_ns`` may be unknown; a tag span can only join the trace with ``span_id``.
    """

    trace_id: str
    span_id: str | None = None
    time_ns: int | None = None


@dataclass(frozen=True, slots=True)
class Episode:
    """A snapshot of one anomaly episode.

    Times are epoch seconds. ``expected_low``/``expected_high`` is the range the
    detector considered normal at the peak; ``observed`` is the value seen there.
    ``direction`` is +1 (above normal) or -1 (below). ``key`` and ``trace_id`` are
    filled in by :class:`~ricecoder_otel.anomaly.monitor.AnomalyMonitor`.
    """

    onset: float
    end: float | None
    peak_time: float
    peak_score: float
    kind: str
    direction: int
    observed: float
    expected: float
    expected_low: float
    expected_high: float
    points: int
    key: str = ""
    trace_id: str | None = None

    @property
    def is_open(self) -> bool:
        """True for the report sent when the episode starts."""
        return self.end is None

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready view (used by the CLI and the exporters)."""
        return {
            "key": self.key,
            "kind": self.kind,
            "onset": self.onset,
            "end": self.end,
            "peak_time": self.peak_time,
            "peak_score": round(self.peak_score, 4),
            "direction": self.direction,
            "observed": self.observed,
            "expected": self.expected,
            "expected_low": self.expected_low,
            "expected_high": self.expected_high,
            "points": self.points,
            "trace_id": self.trace_id,
        }
