"""A streaming anomaly detector for one series: O(1) per point, about 3 KB of state.

The model, in the order ``update`` applies it:

* a modelling scale picked from the warm-up points: raw, log (positive series with a
  multiplicative spread, such as latency) or Anscombe for low Poisson-like counts, whose point
  evidence is the Poisson deviance residual (``0 -> 13`` where 2 are expected is rare,
  ``0 -> 3`` on a quiet route is not);
* a seasonal profile (48 half-hour bins of the day plus interpolated day-of-week offsets)
  learned slowly against a one-day level, so daily and weekly patterns are not anomalies;
* a Huberised level with a damped trend (Holt) and a mean-absolute-deviation scale with floors
  (flat lines, integer series);
* five pieces of evidence turned into one robust z: the point residual (spikes, dips; judged
  against a decaying, one-sided memory of recent outlier sizes, confirmed by a second outlier,
  so heavy tails stay quiet and the next incident still stands out), a
  two-sided CUSUM deflated by the residuals' autocorrelation (moderate level shifts),
  fast-over-slow spread (variance change) and the trend against the adopted trend; the score
  is ``z^2 / (z^2 + threshold^2)``;
* new record highs and lows: a value beyond the whole range the series has shown, by more
  than ``record_margin`` of that range, once the range is ``record_days`` old (an incident
  larger than every earlier one stands out even where heavy tails raised the point bar);
* stuck values: a run of identical readings, judged against how often the series repeats a
  value and against the longest run it has shown (flat-lined sensors, a collector repeating
  its last sample; an idle instance that is often flat learns that it is);
* episodes with hysteresis: open at ``open_score``, close after ``cooldown`` quiet points,
  re-crossings while closing are merged (suppressed repeats). A persistent level shift,
  variance change or trend is reported once and then adopted as the new normal.

Nothing looks ahead; bad input (None, NaN, inf, non-numbers, bad timestamps) scores 0.0 and is
counted, out-of-order points are scored but not learned, and nothing raises.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable
from datetime import datetime
from itertools import pairwise
from typing import Any, Final

from ricecoder_otel.anomaly.episode import (
    DIP,
    LEVEL_SHIFT,
    SPIKE,
    STUCK,
    TREND,
    VARIANCE_CHANGE,
    Episode,
)
from ricecoder_otel.anomaly.options import DetectorOptions

_BIN_SECONDS: Final = 1800.0
_DAY_BINS: Final = 48
_SEASONAL_MAX_STEP: Final = 2.5 * _BIN_SECONDS  # hourly data with jitter still learns a day profile
_DAY: Final = 86400.0
_PER_DAY: Final = 1.0 / _DAY
_MAX_ABS: Final = 1e300  # beyond this a value is clamped so arithmetic never overflows
_MAX_Z: Final = 1e6
_WEEK_RATE: Final = 1.0  # day-of-week offsets learn over about one visit of each day
_RECENT: Final = 5  # points kept to re-anchor the level when a shift is adopted
_HI: Final = _RECENT  # record range, kept after them
_LO: Final = _RECENT + 1
_SINCE: Final = _RECENT + 2
# how often a log-scale series read exactly zero lately (drop-outs), as of point _ZERO_N
_ZERO: Final = _RECENT + 3
_ZERO_N: Final = _RECENT + 4
_ZERO_KEEP: Final = 0.99  # per point: that frequency forgets over a few hundred points
# likelihood of the recent point evidence (after Numenta's anomaly likelihood): the average point
# score of about the last 10 points against that average's own running mean and variance
_LIK: Final = _RECENT + 5
_LIK_MEAN: Final = _RECENT + 6
_LIK_VAR: Final = _RECENT + 7
_LIK_SHORT: Final = 0.1  # about 10 points
_LIK_LONG: Final = 0.001  # about 1,000 points
_LIK_AFTER: Final = 200  # points before the running mean and variance are trusted
# Score semantics: above ``open_score`` the evidence is compressed into this share of the range,
# so only the point where an episode opens reaches the alarm level above it.
_HELD_SHARE: Final = 0.8
# How strong an opening is, inside the alarm band: its evidence, less a share for evidence that is
# weak by nature. Aggregate evidence (spread or the recent evidence's likelihood) crosses the open
# level gradually, so its onset counts as if its evidence were 0.1 lower; a series younger than
# _YOUNG_DAYS (its daily profile and range still forming) has its onsets count up to 0.2 lower,
# fading linearly with age. Floored at the alarm level: every opening still alarms.
_AGGREGATE_DISCOUNT: Final = 0.1
_YOUNG_DISCOUNT: Final = 0.2
_YOUNG_DAYS: Final = 5.0

# Which piece of evidence dominates a point.
_POINT: Final = 0
_CUSUM: Final = 1
_VAR: Final = 2
_TREND: Final = 3
_STUCK: Final = 4

# Stuck values: a run of identical readings is judged against how often the series repeats a
# value (a run of L has probability about p^L) and against the longest run seen before.
_STUCK_MIN: Final = 12  # points; shorter runs are never evidence
_STUCK_P: Final = 1e-6  # run probability at which the stuck evidence reaches the threshold
_LOG_STUCK_P: Final = math.log(_STUCK_P)
_REPEAT_ALPHA: Final = 0.01

_ANSCOMBE_ZERO: Final = 2.0 * math.sqrt(0.375)

# How a value is transformed before modelling.
_RAW: Final = 0
_COUNT: Final = 1
_LOG: Final = 2
_MODES: Final = {"none": _RAW, "count": _COUNT, "log": _LOG}
_LOG_MIN: Final = 1e-300
_LOG_OF_MIN: Final = math.log(_LOG_MIN)


def to_epoch(timestamp: datetime | float | int) -> float:
    """Epoch seconds from a datetime (naive means UTC) or a number."""
    if isinstance(timestamp, datetime):
        if timestamp.tzinfo is None:
            return (timestamp - _EPOCH_NAIVE).total_seconds()
        return timestamp.timestamp()
    return float(timestamp)


_EPOCH_NAIVE = datetime(1970, 1, 1)


def _mean_abs_dev(values: list[float]) -> float:
    mean = sum(values) / len(values)
    return sum(abs(v - mean) for v in values) / len(values)


def _choose_mode(values: list[float], integer: bool, o: DetectorOptions) -> int:
    """Pick the scale a series is modelled on from its warm-up values (sorted)."""
    n = len(values)
    median = values[n // 2]
    if (
        integer
        and values[0] >= 0.0
        and median <= o.count_max_median
        and _mean_abs_dev(values) >= 0.4 * math.sqrt(sum(values) / n)
    ):
        return _COUNT  # low counts that vary like Poisson counts (not a constant line)
    low, high = values[n // 10], values[n - 1 - n // 10]
    if values[0] > 0.0 and high >= o.log_spread * low:
        return _LOG  # positive with multiplicative spread (latencies, sizes, queue depths)
    return _RAW


def _top_two(top: float, second: float, new: float) -> tuple[float, float]:
    """The largest outlier size and the size a repeat is judged against: the second largest,
    but at least half the largest. One outlier is weak evidence of a heavy tail (it may have
    been an incident, and the next incident must still stand out); a second one confirms it."""
    if new >= top:
        top, second = new, top
    elif new > second:
        second = new
    half = 0.5 * top
    return top, (second if second > half else half)


class Detector:
    """Scores one series point by point and reports anomaly episodes."""

    __slots__ = (
        "_alarm",
        "_b",
        "_bref",
        "_c0",
        "_c1",
        "_cn",
        "_cp",
        "_day",
        "_decay16",
        "_dt",
        "_ep_adopted",
        "_ep_dir",
        "_ep_expected",
        "_ep_high",
        "_ep_kind",
        "_ep_last",
        "_ep_low",
        "_ep_observed",
        "_ep_onset",
        "_ep_peak",
        "_ep_peak_r",
        "_ep_peak_t",
        "_ep_points",
        "_ep_quiet",
        "_ep_se",
        "_ep_tails",
        "_evidence",
        "_floor",
        "_level",
        "_m",
        "_mf",
        "_mode",
        "_n",
        "_o",
        "_on_episode",
        "_p",
        "_pending",
        "_prev_x",
        "_rbin",
        "_rcnt",
        "_rcur",
        "_recent",
        "_recur",
        "_rel",
        "_repeat",
        "_rprev",
        "_run",
        "_run_sign",
        "_run_var",
        "_s",
        "_same",
        "_same_max",
        "_sv",
        "_svs",
        "_t",
        "_tail_hi",
        "_tail_lo",
        "_top_hi",
        "_top_lo",
        "_warm",
        "_week",
        "callback_errors",
        "dropped",
        "episodes",
        "invalid",
        "out_of_order",
        "suppressed",
    )

    def __init__(self, options: DetectorOptions | None = None) -> None:
        o = options or DetectorOptions()
        self._o = o
        # _step's constants, unpacked there in this order: one tuple read per point is
        # cheaper than fifteen option lookups on the hot path.
        self._p = (
            o.gap_factor, 1.0 / o.tail_share, o.cusum_k, o.threshold, o.threshold / o.cusum_h,
            o.variance_alpha, o.threshold / (o.variance_ratio - 1.0),
            o.threshold / (o.slope_alpha * o.trend_sigmas), o.scale_alpha, o.level_alpha, o.slope_alpha,
            o.variance_slow_alpha, o.fast_alpha, o.warmup, o.open_score,
        )
        self._decay16 = o.tail_decay**16
        self._alarm = o.open_score + (1.0 - o.open_score) * _HELD_SHARE
        self._evidence = 0.0
        self._on_episode: Callable[[Episode], None] | None = o.on_episode
        # plain lists: an empty deque alone costs 600 bytes, a third of the per-series budget
        self.episodes: list[Episode] = []
        self._pending: list[Episode] = []
        self.dropped = 0
        self.invalid = 0
        self.out_of_order = 0
        self.suppressed = 0
        self.callback_errors = 0
        self._n = 0
        self._t = -math.inf
        self._dt = 0.0
        self._warm: list[tuple[float, float]] | None = []
        self._mode = _RAW
        self._rel = o.rel_floor
        self._floor = o.abs_floor
        self._m = self._mf = self._b = self._bref = 0.0
        self._recent: array[float] = array("d")
        self._s = self._sv = self._svs = 0.0
        self._cp = self._cn = 0.0
        self._c0 = self._c1 = self._rprev = 0.0
        self._tail_hi = self._tail_lo = self._top_hi = self._top_lo = 0.0
        self._level = 0.0
        self._prev_x = math.nan
        self._repeat = 0.0
        self._same = 0
        self._same_max = 0.0
        self._day: array[float] | None = None
        self._week: array[float] = array("d")
        self._recur: array[float] = array("f")
        self._rbin = -1
        self._rcur = 0.0
        self._rcnt = 0
        self._run = self._run_sign = self._run_var = 0
        self._ep_onset: float | None = None
        self._reset_episode()

    # ------------------------------------------------------------------ public API

    @property
    def options(self) -> DetectorOptions:
        return self._o

    def retune(self, options: DetectorOptions) -> bool:
        """Switch to ``options`` keeping what was learned; False when that cannot be done.

        Thresholds, rates and episode rules take effect from the next point. Turning
        seasonality off drops the learned profile; turning it on starts an empty one. A
        transform other than the one the series is modelled on invalidates the level and scale
        (they live on that scale): then nothing changes and the caller starts a new detector.
        """
        if self._warm is None and options.transform is not None and _MODES[options.transform] != self._mode:
            return False
        fresh = Detector(options)
        self._o, self._p, self._decay16, self._on_episode = options, fresh._p, fresh._decay16, fresh._on_episode
        self._alarm = fresh._alarm
        if self._warm is None:
            if not options.seasonal:
                self._day, self._week, self._recur = None, array("d"), array("f")
            elif self._day is None and self._dt <= _SEASONAL_MAX_STEP:
                self._day, self._week = array("d", bytes(8 * _DAY_BINS)), array("d", bytes(8 * 7))
                self._recur = array("f", bytes(4 * _DAY_BINS))
        return True

    @property
    def evidence(self) -> float:
        """The last point's evidence score in [0, 1], before the alarm-level mapping of
        ``update``: how anomalous the point is, whether or not an episode opened on it."""
        return self._evidence

    @property
    def points(self) -> int:
        """Valid points seen so far."""
        return self._n

    @property
    def in_episode(self) -> bool:
        """True between an episode's opening report and its closing one."""
        return self._ep_onset is not None

    @property
    def has_reports(self) -> bool:
        """True when ``drain_episodes`` would return something (cheap to poll per point)."""
        return bool(self._pending)

    def drain_episodes(self) -> list[Episode]:
        """Episode reports (openings and closings) since the last drain, oldest first."""
        out = self._pending
        self._pending = []
        return out

    def expected(self, timestamp: datetime | float | int | None = None) -> tuple[float, float, float] | None:
        """(expected, low, high) for the next point in the series' units; None while warming up."""
        if self._warm is not None:
            return None
        t = self._t if timestamp is None else to_epoch(timestamp)
        y = self._m + self._b + self._seasonal(t)
        half = self._o.threshold * self._scale()
        inv = self._inverse
        return inv(y), inv(y - half), inv(y + half)

    def update(self, timestamp: Any, value: Any) -> float:
        """Add one point and return its anomaly score in [0, 1].

        ``timestamp`` is a datetime (naive means UTC) or epoch seconds, ``value`` a number.
        Both are typed ``Any`` on purpose: anything else (None, NaN, text) scores 0.0 and is
        counted in ``invalid``, where a compiled build would reject a narrower declared type.
        """
        t: float
        x: float
        if type(timestamp) is float:
            t = timestamp
        else:
            try:
                t = to_epoch(timestamp)
            except (TypeError, ValueError, OverflowError, OSError):
                self.invalid += 1
                return 0.0
        if type(value) is float:
            x = value
        else:
            try:
                x = float(value)
            except (TypeError, ValueError, OverflowError):
                self.invalid += 1
                return 0.0
        if not (math.isfinite(x) and math.isfinite(t)):
            self.invalid += 1
            return 0.0
        if x > _MAX_ABS:
            x = _MAX_ABS
        elif x < -_MAX_ABS:
            x = -_MAX_ABS
        if t < self._t:
            self.out_of_order += 1
            return self._score_only(x)
        if self._warm is not None:
            return self._warm_up(t, x)
        return self._step(t, x)

    # ------------------------------------------------------------------ model

    def _transform(self, x: float) -> float:
        mode = self._mode
        if mode == _COUNT:
            return 2.0 * math.sqrt(x + 0.375) if x > 0.0 else _ANSCOMBE_ZERO
        if mode == _LOG:
            return math.log(x) if x > _LOG_MIN else _LOG_OF_MIN
        return x

    def _inverse(self, y: float) -> float:
        mode = self._mode
        if mode == _COUNT:
            v = 0.25 * y * y - 0.375 if y > 0.0 else 0.0
            return v if v > 0.0 else 0.0
        if mode == _LOG:
            return math.exp(y if y < 700.0 else 700.0)
        return y

    def _poisson_z(self, x: float, expected_t: float, se: float, tail: float) -> float:
        """Point evidence for counts: the Poisson deviance residual, which keeps its tail
        probabilities far out (the Anscombe scale understates 13 events when 2 are expected).
        Over-dispersed counts (scale above the Poisson 0.8) are judged on their own scale."""
        lam = self._inverse(expected_t)
        if lam < 1e-3:
            lam = 1e-3
        dev = 2.0 * (x * math.log(x / lam) - (x - lam)) if x > 0.0 else 2.0 * lam
        d = math.sqrt(dev if dev > 0.0 else 0.0)
        if x < lam:
            d = -d
        scale = se if se > 0.8 else 0.8
        if tail > scale:
            scale = tail
        return d / scale

    def _seasonal(self, t: float) -> float:
        day = self._day
        if day is None:
            return 0.0
        week = self._week
        wpos = t / _DAY + 2.5
        wflo = int(wpos)
        wf = wpos - wflo
        return day[int((t % _DAY) / _BIN_SECONDS)] + week[wflo % 7] * (1.0 - wf) + week[(wflo + 1) % 7] * wf

    def _roll_recurrence(self, dbin: int) -> None:
        """Entering bin ``dbin``: the bin just left keeps the mean absolute deviation of this
        visit (or half of what earlier days showed there, if larger) for the next day's visit.
        A mean, not a maximum: noise and one-point spikes average out, a recurring shape stays."""
        old = self._rbin
        if old >= 0 and self._rcnt:
            kept = 0.5 * self._recur[old]
            cur = self._rcur / self._rcnt
            self._recur[old] = cur if cur > kept else kept
        self._rbin = dbin
        self._rcur = 0.0
        self._rcnt = 0

    def _scale(self) -> float:
        s = self._s
        f = self._floor
        rel = self._rel * abs(self._m)
        if rel > f:
            f = rel
        return s if s > f else f

    def _warm_up(self, t: float, x: float) -> float:
        warm = self._warm
        assert warm is not None
        if warm and t == warm[-1][0] and x == warm[-1][1]:
            return 0.0
        warm.append((t, x))
        if len(warm) < min(self._o.warmup, 16):
            return 0.0
        o = self._o
        values = sorted(v for _, v in warm)
        integer = all(v == int(v) for v in values)
        self._mode = _MODES[o.transform] if o.transform is not None else _choose_mode(values, integer, o)
        ys = [self._transform(v) for _, v in warm]
        ys_sorted = sorted(ys)
        my = ys_sorted[len(ys) // 2]
        dev = sorted(abs(y - my) for y in ys)
        mad = dev[len(dev) // 2]
        mean_dev = sum(dev) / len(dev)
        floor = o.abs_floor
        self._rel = o.rel_floor
        if self._mode == _COUNT:
            floor = max(floor, o.count_floor)
        elif self._mode == _LOG:
            floor = max(floor, o.rel_floor)  # relative change is absolute on a log scale
            self._rel = 0.0
        elif integer:
            floor = max(floor, 0.5)
        self._floor = floor
        self._m = self._mf = self._level = my
        # the last points, then the record high, low and when that range started, the drop-out
        # frequency and the evidence likelihood's three averages (one array: as attributes
        # they would cost 32 bytes each of the 4 KB budget)
        self._recent = array("d", [my] * _RECENT + [values[-1], values[0], warm[0][0], 0.0, 0.0, 0.0, 0.0, 0.0])
        self._s = max(mad, 0.5 * mean_dev)
        self._svs = self._sv = self._s
        deltas = sorted(b[0] - a[0] for a, b in pairwise(warm) if b[0] > a[0])
        self._dt = deltas[len(deltas) // 2] if deltas else 1.0
        self._prev_x = warm[-1][1]
        self._repeat = sum(1 for a, b in pairwise(warm) if a[1] == b[1]) / (len(warm) - 1)
        self._t = warm[-1][0]
        self._n = len(warm)
        self._warm = None
        if o.seasonal and self._dt <= _SEASONAL_MAX_STEP:
            self._day = array("d", bytes(8 * _DAY_BINS))
            self._week = array("d", bytes(8 * 7))
            self._recur = array("f", bytes(4 * _DAY_BINS))
        return 0.0

    def _score_only(self, x: float) -> float:
        if self._warm is not None:
            return 0.0
        r = self._transform(x) - self._seasonal(self._t) - self._m - self._b
        tail = (self._tail_hi if r > 0.0 else self._tail_lo) / self._o.tail_share
        se = self._scale()
        z = abs(r) / (tail if tail > se else se)
        if z > _MAX_Z:
            z = _MAX_Z
        th = self._o.threshold
        score = z * z / (z * z + th * th)
        self._evidence = score
        o = self._o.open_score
        return score if score < o else o + (score - o) * _HELD_SHARE

    def _step(self, t: float, x: float) -> float:
        (gap_factor, tail_share, k, th, k_cusum, va, k_var, k_trend, sa, la, sl, vsa, fa, warmup,
         open_score) = self._p
        dt = t - self._t
        typical = self._dt
        if dt > gap_factor * typical:
            self._cp = self._cn = 0.0
            if self._ep_onset is not None:
                self._close(self._t)
        if dt > 0.0:
            self._dt = typical + 0.05 * ((dt if dt < 4.0 * typical else 4.0 * typical) - typical)
        self._t = t
        self._n += 1

        # transform and deseasonalise
        mode = self._mode
        if mode == _RAW:
            xt = x
        elif mode == _COUNT:
            xt = 2.0 * math.sqrt(x + 0.375) if x > 0.0 else _ANSCOMBE_ZERO
        else:
            xt = math.log(x) if x > _LOG_MIN else _LOG_OF_MIN
        day = self._day
        season = 0.0
        if day is not None:
            week = self._week
            tday = t * _PER_DAY
            # the remainder is exact: a sample on a half-hour boundary (scrapes at round times)
            # lands in the bin it starts, not in the previous one by a rounding error
            dbin = int((t % _DAY) / _BIN_SECONDS)
            # day-of-week offsets, interpolated between day centres so there is no step at midnight
            wpos = tday + 2.5
            wflo = int(wpos)
            wf = wpos - wflo
            w0 = wflo % 7
            w1 = w0 + 1 if w0 < 6 else 0
            season = day[dbin] + week[w0] * (1.0 - wf) + week[w1] * wf
            if dbin != self._rbin:
                self._roll_recurrence(dbin)
            recur = self._recur[dbin]
        else:
            recur = 0.0
        y = xt - season

        # scale with floors
        m = self._m
        b = self._b
        s = self._s
        f = self._floor
        rel = self._rel * (m if m > 0.0 else -m)
        if rel > f:
            f = rel
        se = s if s > f else f

        pred = m + b
        r = y - pred
        ar = r if r > 0.0 else -r
        # point evidence is judged against recent outliers on the same side (heavy tails)
        tail = (self._tail_hi if r > 0.0 else self._tail_lo) * tail_share
        zr = r / se
        zp = r / tail if tail > se else zr
        # evidence at a time of day that deviated as much on earlier days is a recurring pattern
        recur_se = recur * tail_share
        damp = 1.0
        if recur_se > 2.0 * se:
            # a bin that recurs itself is judged against its neighbours' recurrence too, so a
            # daily pattern whose timing drifts into the next half hour is still that pattern
            rca = self._recur
            nb = rca[dbin - 1]
            up = rca[dbin + 1 if dbin < _DAY_BINS - 1 else 0]
            if up > nb:
                nb = up
            if nb > recur:
                recur = nb
                recur_se = nb * tail_share
            damp = 2.0 * se / recur_se
        if damp < 1.0:
            zr *= damp
            if abs(zr) < abs(zp):
                zp = zr
        if mode == _COUNT:
            zp = self._poisson_z(x, pred + season, se, tail)
        if zp > _MAX_Z:
            zp = _MAX_Z
        elif zp < -_MAX_Z:
            zp = -_MAX_Z
        azp = zp if zp > 0.0 else -zp

        # a new record high or low, judged by how far it leaves the whole range seen so far:
        # rare by construction (records of a stable series thin out), and blind to the heavy-tail
        # memory above, so an incident larger than every earlier one still stands out
        rec = self._recent
        hi = rec[_HI]
        lo = rec[_LO]
        if x > hi or x < lo:
            if hi > lo:
                o = self._o
                tr = self._transform
                thi = tr(hi)
                span = thi - tr(lo)
                rel = ((xt - thi) if x > hi else (tr(lo) - xt)) / span
                if self._n > o.record_after and t - rec[_SINCE] >= o.record_days * _DAY:
                    zrec = th * rel / o.record_margin
                    if zrec > _MAX_Z:
                        zrec = _MAX_Z
                    if zrec > azp:
                        azp = zrec
                        zp = zrec if x > hi else -zrec
            else:  # a flat line is opening its range: the range is as old as this point
                rec[_SINCE] = t
            if x > hi:
                rec[_HI] = x
            else:
                rec[_LO] = x

        # a log-scale series reading exactly zero has dropped out, and log(0) is infinitely far
        # from any level: a lone zero is judged by how often the series dropped out lately (the
        # normal tail of that frequency) instead; the first drop-out, and a zero following a
        # zero (an outage, not a glitch), keep their full evidence. The frequency decays lazily,
        # at the next zero, so series that never read zero pay one comparison per point.
        if x <= 0.0 and mode == _LOG:
            n_now = self._n
            zrate = rec[_ZERO]
            if zrate > 0.0:
                zrate *= _ZERO_KEEP ** (n_now - rec[_ZERO_N] - 1.0)
                if zrate > 0.0 and self._prev_x > 0.0:
                    zcap = math.sqrt(-2.0 * math.log(zrate))  # the normal tail of that frequency
                    if azp > zcap:
                        azp = zcap
                        zp = -zcap
            rec[_ZERO] = zrate + (1.0 - _ZERO_KEEP) * (1.0 - zrate)
            rec[_ZERO_N] = n_now

        # stuck: a run of identical values that is improbable for this series
        if x == self._prev_x:
            same = self._same + 1
            self._repeat += _REPEAT_ALPHA * (1.0 - self._repeat)
        else:
            same = 0
            run = self._same
            if run > self._same_max:
                # runs this long happen here; one run at most doubles what is expected, so a
                # long stuck failure does not hide the next one
                limit = 2.0 * (self._same_max if self._same_max > _STUCK_MIN else _STUCK_MIN)
                self._same_max = run if run < limit else limit
            self._repeat -= _REPEAT_ALPHA * self._repeat
            self._prev_x = x
        self._same = same
        zs = 0.0
        if same >= _STUCK_MIN:
            rep_p = self._repeat
            if rep_p < 0.999:
                need = _LOG_STUCK_P / math.log(rep_p if rep_p > 1e-3 else 1e-3)
                if need < 2.0 * self._same_max:
                    need = 2.0 * self._same_max
                if need < _STUCK_MIN:
                    need = float(_STUCK_MIN)
                zs = th * same / need
        # a stuck source says nothing about the series: its run neither shifts nor shrinks the model
        frozen = zs >= 0.5 * th

        # CUSUM on the clipped residual, deflated by the residuals' lag-1 autocorrelation
        # (a wandering series has long runs on one side of its level that are not shifts)
        c0 = self._c0
        rho = self._c1 / c0 if c0 > 0.0 else 0.0
        if rho > 0.98:
            rho = 0.98
        if zr > _MAX_Z:
            zr = _MAX_Z
        elif zr < -_MAX_Z:
            zr = -_MAX_Z
        zc_in = zr * math.sqrt((1.0 - rho) / (1.0 + rho)) if rho > 0.0 else zr
        if zc_in > 4.0:
            zc_in = 4.0
        elif zc_in < -4.0:
            zc_in = -4.0
        if frozen:
            cp, cn = self._cp, self._cn
        else:
            cp = self._cp + zc_in - k
            cp = cp if cp > 0.0 else 0.0
            cn = self._cn - zc_in - k
            cn = cn if cn > 0.0 else 0.0
            self._cp = cp
            self._cn = cn
        zc = k_cusum * (cp if cp > cn else cn)

        # variance: fast vs slow mean deviation around a fast level
        mf = self._mf
        dv = y - mf
        if dv < 0.0:
            dv = -dv
        cap = 6.0 * (self._svs if self._svs > f else f)
        if dv > cap:
            dv = cap
        sv = self._sv + va * (dv - self._sv)
        self._sv = sv
        svs = self._svs
        svs_f = svs if svs > f else f
        ratio = sv / svs_f
        zv = k_var * (ratio - 1.0) * damp if ratio > 1.0 else 0.0

        # trend against the adopted trend, as drift over the slope horizon
        db = b - self._bref
        if db < 0.0:
            db = -db
        zt = k_trend * db / se

        z = azp
        dom = _POINT
        # a run of moderate outliers: the recent average point score, in standard deviations of
        # that average's usual level, is a robust z like the others (bursts that no single
        # point makes an alarm, sustained misbehaviour inside the normal range)
        pz = azp * azp
        lik = rec[_LIK]
        lik += _LIK_SHORT * (pz / (pz + th * th) - lik)
        rec[_LIK] = lik
        lik_mean = rec[_LIK_MEAN]
        lik_var = rec[_LIK_VAR]
        if self._n > _LIK_AFTER:
            # the spread is at least the shift one point at the threshold makes, over half the
            # threshold: one point alone reaches half the threshold here (a point's own evidence
            # and a series' threshold or sensitivity decide single points, not this)
            dl = lik - lik_mean
            floor = _LIK_SHORT / th
            if dl > z * floor:  # else it cannot beat z: the spread is at least the floor
                sd = math.sqrt(lik_var)
                zl = dl / (sd if sd > floor else floor)
                if zl > z:
                    z, dom = zl, _VAR
        if not frozen:
            dl = lik - lik_mean
            rec[_LIK_MEAN] = lik_mean + _LIK_LONG * dl
            rec[_LIK_VAR] = lik_var + _LIK_LONG * (dl * dl - lik_var)
        if zs > z:
            z, dom = zs, _STUCK
        if zc > z:
            z, dom = zc, _CUSUM
        if zv > z:
            z, dom = zv, _VAR
        if zt > z:
            z, dom = zt, _TREND
        score = z * z / (z * z + th * th)

        n = self._n
        if not n & 15:  # outlier and run memories decay in steps of 16 points
            self._tail_hi *= self._decay16
            self._tail_lo *= self._decay16
            self._top_hi *= self._decay16
            self._top_lo *= self._decay16
            self._same_max *= self._decay16
        if not frozen:
            # learn: Huberised level and trend, scale, slow stats
            hub = 2.0 * se
            rc = r if r < hub else hub
            if rc < -hub:
                rc = -hub
            un = rc / se
            self._c0 = c0 + sa * (un * un - c0)
            self._c1 += sa * (un * self._rprev - self._c1)
            self._rprev = un
            m_new = pred + la * rc
            b = 0.999 * b + sl * (m_new - m - b)
            self._m = m_new
            self._b = b
            ca = 4.0 * se
            self._s = s + sa * ((ar if ar < ca else ca) - s)
            self._svs = svs + vsa * (dv - svs)
            dm = y - mf
            if dm > cap:
                dm = cap
            elif dm < -cap:
                dm = -cap
            self._mf = mf + fa * dm
            self._recent[n % _RECENT] = y
            if day is not None:
                self._rcur += ar
                self._rcnt += 1

            if day is not None and (zc < 0.5 * th or recur > 3.0 * se):  # a shift half-way to an alarm is not a season
                level = self._level
                wk = week
                ga = typical * _PER_DAY
                if ga < 1.0 / n:
                    ga = 1.0 / n
                self._level = level + ga * (rc + pred - level)
                resid = xt - level
                clip = 3.0 * se
                if recur > clip:  # a recurring shape is learnt as fast as it recurs
                    clip = recur
                weekly = wk[w0] * (1.0 - wf) + wk[w1] * wf
                dd = resid - weekly - day[dbin]
                dd = dd if dd < clip else clip
                if dd < -clip:
                    dd = -clip
                day[dbin] += (typical / (4.0 * _BIN_SECONDS)) * dd
                dw = resid - day[dbin] - weekly
                dw = dw if dw < clip else clip
                if dw < -clip:
                    dw = -clip
                gw = _WEEK_RATE * typical * _PER_DAY * dw
                wk[w0] += gw * (1.0 - wf)
                wk[w1] += gw * wf

        # episodes
        if n < warmup:
            return 0.0
        self._evidence = score
        if self._ep_onset is None:
            if score >= open_score:
                self._open(t, x, xt, season, pred, se, score, dom, zp, zv)
                # the opening point alone scores at or above the alarm level
                strength = score - _AGGREGATE_DISCOUNT if dom == _VAR else score
                if dom == _STUCK:  # a run length crosses exactly at its rarity bound: no size to read
                    strength = 1.0
                age = (t - rec[_SINCE]) * _PER_DAY
                if age < _YOUNG_DAYS:
                    strength -= _YOUNG_DISCOUNT * (1.0 - age / _YOUNG_DAYS)
                if strength < open_score:
                    strength = open_score
                alarm = self._alarm
                return alarm + (1.0 - alarm) * (strength - open_score) / (1.0 - open_score)
            return score
        self._continue_episode(t, x, xt, season, pred, se, score, dom, zp, zv)
        if score < open_score:
            return score
        return open_score + (score - open_score) * _HELD_SHARE  # held below the alarm level

    # ------------------------------------------------------------------ episodes

    def _reset_episode(self) -> None:
        self._ep_onset = None
        self._ep_last = 0.0
        self._ep_peak = 0.0
        self._ep_peak_r = 0.0
        self._ep_se = 0.0
        self._ep_peak_t = 0.0
        self._ep_kind = SPIKE
        self._ep_dir = 1
        self._ep_observed = 0.0
        self._ep_expected = 0.0
        self._ep_low = 0.0
        self._ep_high = 0.0
        self._ep_points = 0
        self._ep_quiet = 0
        self._ep_adopted = False
        self._ep_tails = (0.0, 0.0, 0.0, 0.0)
        self._run = self._run_sign = self._run_var = 0

    def _kind_of(self, dom: int, zp: float) -> str:
        if dom == _POINT:
            return SPIKE if zp >= 0.0 else DIP
        if dom == _CUSUM:
            return LEVEL_SHIFT
        if dom == _VAR:
            return VARIANCE_CHANGE
        if dom == _STUCK:
            return STUCK
        return TREND

    def _mark_peak(
        self, t: float, x: float, x_t: float, season: float, pred: float, se: float, score: float, dom: int, zp: float
    ) -> None:
        inv = self._inverse
        half = self._o.threshold * se
        y = pred + season
        self._ep_peak = score
        self._ep_peak_r = abs(x_t - pred - season)
        self._ep_se = se
        self._ep_peak_t = t
        self._ep_observed = x
        self._ep_expected = inv(y)
        self._ep_low = inv(y - half)
        self._ep_high = inv(y + half)
        if not self._ep_adopted:
            self._ep_kind = self._kind_of(dom, zp)
            if dom == _CUSUM:
                self._ep_dir = 1 if self._cp >= self._cn else -1
            elif dom == _TREND:
                self._ep_dir = 1 if self._b >= self._bref else -1
            elif dom == _VAR:
                self._ep_dir = 1
            else:
                self._ep_dir = 1 if zp >= 0.0 else -1

    def _open(
        self, t: float, x: float, xt: float, season: float, pred: float, se: float,
        score: float, dom: int, zp: float, zv: float,
    ) -> None:
        self._ep_onset = t
        self._ep_last = t
        self._ep_points = 1
        self._ep_quiet = 0
        self._ep_adopted = False
        self._ep_tails = (self._tail_hi, self._tail_lo, self._top_hi, self._top_lo)
        self._run = 1
        self._run_sign = 1 if zp >= 0.0 else -1
        self._run_var = 1 if zv >= 0.5 * self._o.threshold else 0
        self._mark_peak(t, x, xt, season, pred, se, score, dom, zp)
        self._emit(None)

    def _continue_episode(
        self, t: float, x: float, xt: float, season: float, pred: float, se: float,
        score: float, dom: int, zp: float, zv: float,
    ) -> None:
        """One more point of an open episode: track its peak, close it after ``cooldown``
        quiet points, adopt persistent evidence as the new normal."""
        o = self._o
        self._ep_points += 1
        if score > self._ep_peak:
            self._mark_peak(t, x, xt, season, pred, se, score, dom, zp)
        if score >= o.close_score:
            if self._ep_quiet and score >= o.open_score:
                self.suppressed += 1
            self._ep_quiet = 0
            self._ep_last = t
        else:
            self._ep_quiet += 1
            if self._ep_quiet >= o.cooldown:
                self._close(self._ep_last)
                return
        # persistent evidence is adopted as the new normal: consistent sign -> level shift,
        # raised spread -> variance change, drift against the adopted trend -> trend
        if score < o.close_score:
            self._run = self._run_sign = self._run_var = 0
            return
        self._run += 1
        self._run_sign += 1 if zp >= 0.0 else -1
        if zv >= 0.5 * o.threshold:
            self._run_var += 1
        run = self._run
        if run >= o.adopt_after and dom != _STUCK:  # a stuck value is never the new normal
            if dom == _TREND:
                self._adopt(_TREND)
            elif 4 * abs(self._run_sign) >= 3 * run:
                self._adopt(_POINT)
            elif 2 * self._run_var >= run:
                self._adopt(_VAR)
            self._run = self._run_sign = self._run_var = 0

    def _adopt(self, dom: int) -> None:
        first = not self._ep_adopted
        if dom == _POINT:
            new_level = sorted(self._recent[:_RECENT])[_RECENT // 2]  # median of the last points
            shift = new_level - self._m
            self._m = self._mf = new_level
            self._b = self._bref  # the climb towards the new level was not a trend
            self._sv = self._svs
            self._level += shift
            self._cp = self._cn = 0.0
            self._tail_hi, self._tail_lo, self._top_hi, self._top_lo = self._ep_tails
            kind = LEVEL_SHIFT
            direction = 1 if shift >= 0.0 else -1
        elif dom == _VAR:
            ratio = self._sv / (self._svs if self._svs > 0.0 else 1.0)
            self._svs = self._sv
            self._s *= ratio if ratio > 1.0 else 1.0
            self._tail_hi, self._tail_lo, self._top_hi, self._top_lo = self._ep_tails
            kind = VARIANCE_CHANGE
            direction = 1
        else:
            direction = 1 if self._b >= self._bref else -1
            self._bref = self._b
            kind = TREND
        if first:
            self._ep_kind = kind
            self._ep_dir = direction
            self._ep_adopted = True

    def _close(self, end: float) -> None:
        if not self._ep_adopted and self._ep_kind in (SPIKE, DIP):
            # a repeat of this size is less surprising for a while (heavy tails, intermittent
            # series); capped so one absurd value cannot blind the detector
            peak = min(self._ep_peak_r, 2.0 * self._o.threshold * self._ep_se)
            if self._ep_kind == SPIKE:
                self._top_hi, self._tail_hi = _top_two(self._top_hi, self._tail_hi, peak)
            else:
                self._top_lo, self._tail_lo = _top_two(self._top_lo, self._tail_lo, peak)
        self._emit(end)
        self._reset_episode()

    def _emit(self, end: float | None) -> None:
        onset = self._ep_onset
        assert onset is not None
        ep = Episode(
            onset=onset,
            end=end,
            peak_time=self._ep_peak_t,
            peak_score=self._ep_peak,
            kind=self._ep_kind,
            direction=self._ep_dir,
            observed=self._ep_observed,
            expected=self._ep_expected,
            expected_low=self._ep_low,
            expected_high=self._ep_high,
            points=self._ep_points,
        )
        history = self._o.history
        if end is not None:
            self.episodes.append(ep)
            if len(self.episodes) > history:
                del self.episodes[0]
        pending = self._pending
        pending.append(ep)
        if len(pending) > 2 * history:  # nobody drains: keep the newest reports
            del pending[0]
            self.dropped += 1
        callback = self._on_episode
        if callback is not None:
            try:
                callback(ep)
            except Exception:  # a consumer's bug must not break scoring
                self.callback_errors += 1


def create_detector(**options: Any) -> Detector:
    """Build a detector; keyword arguments are :class:`DetectorOptions` fields."""
    return Detector(DetectorOptions(**options))
