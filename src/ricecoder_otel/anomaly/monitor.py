"""Many series at once: one detector per key, a hard bound on keys, an injectable clock.

Feeders (per-route latency and error rate, process CPU and memory, configured metrics) call
``observe(key, value)``; listeners get every episode report with its series key and an
exemplar trace id (the trace of the point that was most anomalous so far in the episode).
Exemplar listeners hear each time an episode's exemplar becomes a new request, at once, so
that request's trace can be tagged while the gateway's tail sampler still holds it.
Per-series options come from :class:`~ricecoder_otel.anomaly.series.SeriesRule` rules and
can be changed live with :meth:`AnomalyMonitor.configure`. A lock makes it safe to feed from
several threads; every call is O(1).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from ricecoder_otel.anomaly.detector import Detector
from ricecoder_otel.anomaly.episode import Episode, Exemplar
from ricecoder_otel.anomaly.options import DetectorOptions
from ricecoder_otel.anomaly.series import SeriesRule, options_for

Listener = Callable[[Episode], None]
ExemplarListener = Callable[[str, Exemplar, float], None]
"""Called with (series key, exemplar, score) when an episode's exemplar becomes a new request."""


class _Series:
    __slots__ = ("detector", "exemplar", "last_seen", "peak", "score")

    def __init__(self, detector: Detector, now: float) -> None:
        self.detector = detector
        self.score = 0.0
        self.last_seen = now
        self.peak = 0.0
        self.exemplar: Exemplar | None = None


class AnomalyMonitor:
    """Keyed detectors with bounded memory.

    ``max_series`` caps the number of keys. A new key beyond the cap replaces the least
    recently fed series if that one has been idle for ``idle_seconds``; otherwise the new
    key is refused and counted in ``series_rejected`` (a flood of new keys cannot evict
    live series). ``episodes`` keeps the last ``history`` reports for pull-style consumers.
    A series' options are ``overrides[key]`` if given, else the first of ``rules`` that
    matches it applied to ``options``, else ``options``.
    """

    def __init__(
        self,
        *,
        options: DetectorOptions | None = None,
        overrides: Mapping[str, DetectorOptions] | None = None,
        rules: Sequence[SeriesRule] = (),
        max_series: int = 1000,
        idle_seconds: float = 86400.0,
        history: int = 256,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if max_series < 1:
            raise ValueError("max_series: must be >= 1")
        self._options = options or DetectorOptions()
        self._overrides = dict(overrides or {})
        self._rules = tuple(rules)
        self._max = max_series
        self._idle = idle_seconds
        self._clock = clock
        self._series: OrderedDict[str, _Series] = OrderedDict()
        self._listeners: list[Listener] = []
        self._exemplar_listeners: list[ExemplarListener] = []
        self._pending: list[Episode] = []
        self._history = history
        self._lock = threading.Lock()
        self.series_rejected = 0
        self.series_evicted = 0
        self.listener_errors = 0
        self.episodes_dropped = 0

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(episode)`` for every episode report (opening and closing)."""
        self._listeners.append(listener)

    def add_exemplar_listener(self, listener: ExemplarListener) -> None:
        """Call ``listener(key, exemplar, score)`` when an open episode's exemplar becomes a new request."""
        self._exemplar_listeners.append(listener)

    def configure(
        self, options: DetectorOptions | None = None, rules: Sequence[SeriesRule] | None = None
    ) -> int:
        """Change the default options and/or the rules live; returns how many series changed options.

        Each series whose options change keeps what it learned (see ``Detector.retune``); one
        whose transform changes starts again with a fresh detector (a new warm-up).
        """
        with self._lock:
            if options is not None:
                self._options = options
            if rules is not None:
                self._rules = tuple(rules)
            changed = 0
            for key, series in self._series.items():
                wanted = self._options_for(key)
                if wanted != series.detector.options:
                    changed += 1
                    if not series.detector.retune(wanted):
                        series.detector = Detector(wanted)
                        series.score = series.peak = 0.0
                        series.exemplar = None
            return changed

    def _options_for(self, key: str) -> DetectorOptions:
        override = self._overrides.get(key)
        return override if override is not None else options_for(key, self._options, self._rules)

    def options(self, key: str) -> DetectorOptions | None:
        """The options series ``key`` runs with; None for an unknown key."""
        with self._lock:
            series = self._series.get(key)
            return None if series is None else series.detector.options

    def observe(
        self,
        key: str,
        value: float | int | None,
        timestamp: datetime | float | int | None = None,
        exemplar: Exemplar | None = None,
    ) -> float:
        """Feed one point of series ``key`` (``exemplar``: a request behind it); returns its score
        (0.0 when the key is refused)."""
        now = self._clock()
        t = now if timestamp is None else timestamp
        with self._lock:
            series = self._series.get(key)
            if series is None:
                series = self._admit(key, now)
                if series is None:
                    return 0.0
            else:
                self._series.move_to_end(key)
            series.last_seen = now
            detector = series.detector
            score = detector.update(t, value)
            series.score = score
            tagged = None
            evidence = detector.evidence
            if detector.in_episode and exemplar is not None and evidence >= series.peak:
                series.peak = evidence
                if series.exemplar is None or series.exemplar.trace_id != exemplar.trace_id:
                    tagged = exemplar
                series.exemplar = exemplar
            reports = detector.drain_episodes() if detector.has_reports else None
            if reports is not None:
                reports = [self._label(key, series, ep, exemplar) for ep in reports]
                room = self._history - len(self._pending)
                if room < len(reports):
                    self.episodes_dropped += len(reports) - max(room, 0)
                    del self._pending[: len(reports) - max(room, 0)]
                self._pending.extend(reports)
        if tagged is not None:
            for exemplar_listener in self._exemplar_listeners:
                try:
                    exemplar_listener(key, tagged, score)
                except Exception:  # a broken consumer must not break feeding
                    with self._lock:
                        self.listener_errors += 1
        if reports:
            for ep in reports:
                for listener in self._listeners:
                    try:
                        listener(ep)
                    except Exception:  # a broken consumer must not break feeding
                        with self._lock:
                            self.listener_errors += 1
        return score

    def _admit(self, key: str, now: float) -> _Series | None:
        if len(self._series) >= self._max:
            oldest_key, oldest = next(iter(self._series.items()))
            if now - oldest.last_seen < self._idle:
                self.series_rejected += 1
                return None
            del self._series[oldest_key]
            self.series_evicted += 1
        series = _Series(Detector(self._options_for(key)), now)
        self._series[key] = series
        return series

    @staticmethod
    def _label(key: str, series: _Series, ep: Episode, exemplar: Exemplar | None) -> Episode:
        """``ep`` with its series key and exemplar trace id; a closing report also clears the
        series' exemplar so the next episode starts its own."""
        chosen = series.exemplar or exemplar
        if not ep.is_open:
            series.peak = 0.0
            series.exemplar = None
        return replace(ep, key=key, trace_id=None if chosen is None else chosen.trace_id)

    def drain_episodes(self) -> list[Episode]:
        """Episode reports since the last drain (bounded by ``history``), oldest first."""
        with self._lock:
            out, self._pending = self._pending, []
        return out

    def scores(self) -> dict[str, float]:
        """The latest score of every series (for the score gauge)."""
        with self._lock:
            return {key: s.score for key, s in self._series.items()}

    def expected(self, key: str) -> tuple[float, float, float] | None:
        """(expected, low, high) for the next point of ``key``; None if unknown or warming up."""
        with self._lock:
            series = self._series.get(key)
            return None if series is None else series.detector.expected()

    def __len__(self) -> int:
        return len(self._series)

    def __contains__(self, key: object) -> bool:
        return key in self._series

