"""Seeded synthetic monitoring series with labelled anomaly windows.

Each series is one realistic baseline (seasonal traffic, heavy-tailed latency, CPU,
low counts, memory with GC sawtooth, queue depth) with injected anomalies of one kind.
Labels are NAB-style windows ``[start, end]`` in point indices starting at the onset.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

DAY = 86400.0
START = 1_767_225_600.0  # 2026-01-01T00:00:00Z, a Thursday

ANOMALY_KINDS = ("spike", "dip", "level_shift", "variance_change", "trend")
TRAIN_FAMILIES = ("traffic", "latency", "cpu", "counts")
HELDOUT_FAMILIES = ("memory", "queue")


@dataclass
class Series:
    name: str
    family: str
    kind: str
    timestamps: list[float]
    values: list[float | None]
    windows: list[tuple[int, int]] = field(default_factory=list)


def _daily(t: float, peak_hour: float = 14.0) -> float:
    """A smooth day shape in [-1, 1] with its maximum at peak_hour (UTC)."""
    return math.cos(2 * math.pi * ((t % DAY) / DAY - peak_hour / 24.0))


def _weekend(t: float) -> float:
    """1 on Saturday and Sunday, 0 on weekdays, ramping over the first 6 hours of the day
    (people's weekends do not start at midnight UTC)."""
    dow = int(t // DAY + 3) % 7  # epoch day 0 was a Thursday; 5, 6 = Sat, Sun
    ramp = min(1.0, (t % DAY) / (6 * 3600.0))
    if dow == 5:
        return ramp
    if dow == 0:
        return 1.0 - ramp
    return 1.0 if dow == 6 else 0.0


def _poisson(rng: random.Random, lam: float) -> int:
    if lam > 50:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


class _Baseline:
    """Produces (clean value, noise scale) for a point so anomalies scale with the noise."""

    def __init__(self, family: str, rng: random.Random) -> None:
        self.family = family
        self.rng = rng
        self.state = 0.0
        self.base = {
            "traffic": rng.uniform(200, 2000),
            "latency": rng.uniform(0.05, 0.4),
            "cpu": rng.uniform(15, 50),
            "counts": rng.uniform(0.3, 4.0),
            "memory": rng.uniform(2e8, 8e8),
            "queue": rng.uniform(5, 40),
        }[family]

    def value(self, t: float, extra_sigma: float) -> tuple[float, float]:
        """A noisy value and the noise scale at t; extra_sigma multiplies the noise."""
        rng, b = self.rng, self.base
        f = self.family
        if f == "traffic":
            mean = b * (1 + 0.5 * _daily(t)) * (1.0 - 0.4 * _weekend(t))
            sd = math.sqrt(mean) * 2.0
            return mean + rng.gauss(0, sd * extra_sigma), sd
        if f == "latency":
            med = b * (1 + 0.15 * _daily(t))
            sd = 0.3
            v = med * math.exp(rng.gauss(0, sd * extra_sigma))
            if rng.random() < 0.002:  # normal heavy tail: an occasional slow request
                v *= 1 + rng.paretovariate(3.0)
            return v, med * sd
        if f == "cpu":
            self.state = 0.95 * self.state + rng.gauss(0, 1.2 * extra_sigma)
            mean = b * (1 + 0.3 * _daily(t, 11.0))
            return min(100.0, max(0.0, mean + self.state)), 3.8
        if f == "counts":
            lam = b * (1 + 0.6 * _daily(t)) * (1.0 - 0.5 * _weekend(t))
            self.state = lam
            v = float(_poisson(rng, lam * extra_sigma if extra_sigma > 1 else lam))
            return v, math.sqrt(max(lam, 0.5))
        if f == "memory":
            phase = (t % 1800.0) / 1800.0  # a GC cycle every 30 minutes
            sd = b * 0.004
            # anomalies are sized against the whole normal variability, sawtooth included
            return b * (1 + 0.05 * phase) + rng.gauss(0, sd * extra_sigma), b * 0.015
        # queue: bursty, non-negative, daily
        self.state = max(0.0, 0.9 * self.state + rng.expovariate(1.0) * extra_sigma - 1.0)
        mean = b * (1 + 0.4 * _daily(t, 10.0))
        return mean + 3.0 * self.state, 3.0


def make_series(family: str, kind: str, seed: int, days: float = 14.0, step: float = 60.0,
                irregular: bool = False, count: int = 3) -> Series:
    """One series of `days` at `step` seconds with `count` anomalies of `kind` after day 3."""
    rng = random.Random(f"{family}/{kind}/{seed}")
    base = _Baseline(family, rng)
    n = int(days * DAY / step)
    # anomaly onsets spread over days 3..end, each in its own slot
    first = int(3 * DAY / step)
    slot = (n - first) // count
    onsets = [first + i * slot + rng.randrange(slot // 5, slot // 2) for i in range(count)]
    spec: list[tuple[int, int, float, int]] = []
    for onset in onsets:
        if kind in ("spike", "dip"):
            dur, win = rng.randint(1, 3), 30
        elif kind == "level_shift":
            dur, win = n - onset, 90  # a level shift persists: shifts add up
        elif kind == "variance_change":
            dur, win = rng.randint(120, 360), 90
        else:
            dur = rng.randint(240, 600)
            win = dur
        sign = 1 if rng.random() < 0.5 else -1
        if kind == "level_shift" and spec:  # shifts add up: alternate so they never saturate at 0
            sign = -1 if spec[-1][2] > 0 else 1
        spec.append((onset, dur, rng.uniform(6, 10) * sign, win))
    timestamps: list[float] = []
    values: list[float | None] = []
    t = START
    for i in range(n):
        extra, add = 1.0, 0.0
        for onset, dur, mag, _ in spec:
            if onset <= i < onset + dur:
                if kind == "spike":
                    add = abs(mag)
                elif kind == "dip":
                    add = -abs(mag)
                elif kind == "level_shift":
                    add += mag * 0.6
                elif kind == "variance_change":
                    extra = 3.5
                else:
                    add = abs(mag) * 1.2 * (i - onset) / dur
        v, sd = base.value(t, extra)
        if kind == "dip" and family in ("counts", "queue", "traffic") and add < 0:
            v = max(0.0, v + add * sd) if family != "traffic" else v * 0.35
        elif family == "counts" and add:
            v = float(_poisson(rng, max(0.0, base.state + add * sd)))
        elif family == "latency" and add:
            v = v * math.exp(0.3 * add) if kind != "level_shift" else v * math.exp(0.25 * add)
        elif family == "traffic" and kind == "level_shift" and add:
            v = v * math.exp(0.08 * add)  # traffic moves by a fraction: x1.3 to x1.6 per shift
        else:
            v = v + add * sd
        if family == "cpu":
            v = min(100.0, max(0.0, v))
        elif family in ("traffic", "queue", "memory"):
            v = max(0.0, v)
        if irregular and rng.random() < 0.03:
            t += step * rng.randint(2, 10)  # missing points
        timestamps.append(t)
        values.append(v)
        t += step * (rng.uniform(0.7, 1.3) if irregular else 1.0)
    windows = [(onset, min(n - 1, onset + win)) for onset, _, _, win in spec]
    return Series(f"{family}-{kind}-{seed}", family, kind, timestamps, values, windows)


def dataset(split: str) -> list[Series]:
    """``train`` (used while choosing defaults) or ``heldout`` (only reported)."""
    if split == "train":
        return [make_series(f, k, s) for f in TRAIN_FAMILIES for k in ANOMALY_KINDS for s in range(2)]
    if split == "heldout":
        out = [make_series(f, k, s) for f in TRAIN_FAMILIES for k in ANOMALY_KINDS for s in (100, 101)]
        out += [make_series(f, k, s) for f in HELDOUT_FAMILIES for k in ANOMALY_KINDS for s in (200, 201)]
        out += [make_series(f, k, 300, step=300.0, irregular=True, days=21)
                for f in TRAIN_FAMILIES + HELDOUT_FAMILIES for k in ANOMALY_KINDS]
        return out
    raise ValueError(f"unknown split {split!r}: expected 'train' or 'heldout'")
